/**
 * Regression: two guests behind the same VXLAN port of the gateway (one node, one
 * segment). One connecting to the other's elastic address was DNATed while still a frame
 * on the gateway's bridge (br_netfilter) and re-bridged back out the port it came by,
 * which a bridge never does: the connection hung. And the bridge itself answered ARP for
 * the gateway's address, so guests sent to the bridge's MAC. The gateway now routes
 * through a veth port, its bridges hold no address and answer no ARP.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetworkExecutor } from "../../src/net/executor";
import { renderGatewayHost, renderNodeHost } from "../../src/net/managed";
import type { ClusterView } from "../../src/net/view";
import { canNetns, inNamespace, must, Namespaces, standInGuest } from "../support/netns";

const tap = (id: string) => `eu${id.slice(2)}`;
const view: ClusterView = {
  mode: "MANAGED",
  privateRange: "10.128.0.0/16",
  segments: [{ vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" }],
  instances: [
    {
      instanceId: "i-0000000a",
      node: "n1",
      mac: "d0:0d:00:00:00:0a",
      ip: "10.128.0.34",
      hostname: "a",
      vlan: 11,
      groupIds: ["sg-0000000a"],
      publicIp: "198.51.100.61",
    },
    {
      instanceId: "i-0000000b",
      node: "n1",
      mac: "d0:0d:00:00:00:0b",
      ip: "10.128.0.35",
      hostname: "b",
      vlan: 11,
      groupIds: ["sg-0000000a"],
      publicIp: "198.51.100.62",
    },
  ],
  rules: { "sg-0000000a": [{ protocol: "tcp", fromPort: 22, toPort: 22, cidr: "198.51.100.0/24" }] },
  nodes: { n1: "192.168.50.2" },
  gateway: { underlay: "192.168.50.1", publicDev: "pub0" },
  vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
  dhcp: { leaseSeconds: 600, user: "nobody", group: "nogroup" },
};

describe.runIf(canNetns() || process.env.CI === "true")("hairpin behind one VXLAN port", () => {
  const nss = new Namespaces("eur");
  const dir = mkdtempSync(join(tmpdir(), "euca-hairpin-"));
  beforeAll(async () => {
    chmodSync(dir, 0o755);
    nss.add("head", "n1");
    nss.wire("head", "eth0", "192.168.50.1/24", "n1", "eth0", "192.168.50.2/24");
    must(`ip -n ${nss.name("head")} link add pub0 type bridge && ip -n ${nss.name("head")} link set pub0 up`);
    const log = pino({ level: "silent" });
    await createNetworkExecutor({
      run: inNamespace(nss.name("head")),
      dir: join(dir, "head"),
      dhcpDir: join(dir, "dhcp"),
      log,
    }).apply(renderGatewayHost(view));
    await createNetworkExecutor({
      run: inNamespace(nss.name("n1")),
      dir: join(dir, "n1"),
      dhcpDir: join(dir, "n1-dhcp"),
      log,
    }).apply(renderNodeHost(view, "n1", tap));
    for (const i of view.instances) {
      standInGuest(nss, {
        name: i.hostname,
        node: "n1",
        tap: tap(i.instanceId),
        mac: i.mac,
        bridge: "eucabr11",
        dir,
      }).dhcp();
      const p = nss.spawn(i.hostname, "node", [join(__dirname, "../support/net-echo.mjs"), i.hostname, "22"]);
      await new Promise((resolve) => p.stdout!.once("data", resolve)); // listening
    }
  }, 30_000);
  afterAll(() => {
    nss.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a reaches b at b's elastic address, and b sees a's", async () => {
    const r = nss.exec("a", "sh -c 'sleep 0.3 | busybox nc -w 3 198.51.100.62 22'");
    expect(r.out.trim()).toBe("b:22 from 198.51.100.61");
    // The gateway's MAC is its router end's, not the bridge's.
    const router = must(`ip -n ${nss.name("head")} -br link show eucart11`).split(/\s+/)[2];
    expect(must(`ip -n ${nss.name("a")} neigh show 10.128.0.33`)).toContain(router);
  });
});
