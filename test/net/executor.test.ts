/**
 * The executor on a real namespace: it changes only what it made, an apply cut short by
 * a crash is finished by the next one, and a ruleset nft refuses leaves the one in force.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProgramRunner } from "../../src/common/run-program";
import { createNetworkExecutor, NetworkCommandError } from "../../src/net/executor";
import { emptyNetwork, type HostNetwork } from "../../src/net/host-network";
import { canNetns, inNamespace, must, Namespaces, sh } from "../support/netns";

const log = pino({ level: "silent" });

const want = (): HostNetwork => ({
  ...emptyNetwork(),
  links: [
    { kind: "bridge", name: "eucabr10" },
    {
      kind: "vxlan",
      name: "eucavx10",
      vni: 10,
      local: "192.168.60.1",
      port: 4789,
      master: "eucabr10",
      peers: ["192.168.60.2", "192.168.60.3"],
      mtu: 1450,
    },
  ],
  addresses: [
    { dev: "eucabr10", cidr: "10.128.0.1/27" },
    { dev: "eth0", cidr: "198.51.100.60/32", announce: true },
  ],
  tables: [
    {
      family: "ip",
      name: "euca_gateway",
      body: "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    ip saddr 10.128.0.0/16 ip daddr != 10.128.0.0/16 masquerade\n  }\n",
    },
  ],
  sysctls: { "net.ipv4.ip_forward": "1" },
  translations: { "198.51.100.60": "10.128.0.5" },
});

describe.runIf(canNetns() || process.env.CI === "true")("the network executor, in a namespace", () => {
  const nss = new Namespaces("eux");
  const dir = mkdtempSync(join(tmpdir(), "euca-netx-"));
  let ns = "";
  let before = "";
  const state = () =>
    must(
      `ip -n ${ns} -d -br link show | sort; ip -n ${ns} -br addr show | sort; ip netns exec ${ns} nft list ruleset; ip netns exec ${ns} sysctl -n net.ipv4.ip_forward`,
    );
  const executor = (run: ProgramRunner = inNamespace(ns)) =>
    createNetworkExecutor({ run, dir: join(dir, "state"), dhcpDir: join(dir, "dhcp"), log });

  beforeAll(() => {
    chmodSync(dir, 0o755);
    nss.add("host");
    ns = nss.name("host");
    // What the site has: a firewall table, a bridge, an address of its own, and a link that merely looks like euca's.
    must(
      `ip -n ${ns} link add eth0 type bridge && ip -n ${ns} addr add 192.168.60.1/24 dev eth0 && ip -n ${ns} link set eth0 up`,
    );
    must(`ip -n ${ns} link add eucabr99 type bridge && ip -n ${ns} link add br-site type bridge`);
    must(
      `ip netns exec ${ns} nft add table inet filter && ip netns exec ${ns} nft add chain inet filter input '{ type filter hook input priority 0; policy accept; }' && ip netns exec ${ns} nft add rule inet filter input tcp dport 22 accept`,
    );
    before = state();
  });
  afterAll(() => {
    nss.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies, re-applies with no change, and tears down to exactly what the site had", async () => {
    const ex = executor();
    const first = await ex.apply(want());
    expect(first.linksAdded).toEqual(["eucabr10", "eucavx10"]);
    expect(must(`ip netns exec ${ns} bridge fdb show dev eucavx10`)).toMatch(
      /00:00:00:00:00:00 dst 192.168.60.2[\s\S]*00:00:00:00:00:00 dst 192.168.60.3/,
    );
    const again = await executor().apply(want());
    expect({ a: again.linksAdded, r: again.linksRemoved, n: again.addressesAdded + again.addressesRemoved }).toEqual({
      a: [],
      r: [],
      n: 0,
    });
    expect(must(`ip netns exec ${ns} nft list table inet filter`)).toContain("tcp dport 22 accept");
    await executor().teardown();
    expect(state()).toBe(before);
  });

  it("a peer or an address dropped from the state is removed; links and tables it never made stay", async () => {
    const ex = executor();
    await ex.apply(want());
    const less = want();
    less.links[1] = {
      ...(less.links[1] as Extract<HostNetwork["links"][number], { kind: "vxlan" }>),
      peers: ["192.168.60.3"],
    };
    less.addresses = less.addresses.slice(0, 1);
    const r = await ex.apply(less);
    expect(r.addressesRemoved).toBe(1);
    expect(must(`ip netns exec ${ns} bridge fdb show dev eucavx10`)).not.toContain("192.168.60.2");
    await ex.apply(emptyNetwork());
    expect(sh(`ip -n ${ns} link show eucabr10`).status).not.toBe(0);
    expect(sh(`ip -n ${ns} link show eucabr99`).status).toBe(0);
    await ex.teardown();
    expect(state()).toBe(before);
  });

  it("an apply cut short (the process killed after a few commands) is finished by the next, and torn down without residue", async () => {
    for (const cut of [1, 3, 5, 7, 9]) {
      let n = 0;
      const dying: ProgramRunner = async (cmd, args, opts) => {
        if (++n > cut) throw new Error("killed");
        return inNamespace(ns)(cmd, args, opts);
      };
      await expect(executor(dying).apply(want())).rejects.toThrow("killed");
      const r = await executor().apply(emptyNetwork()); // the restarted role has nothing to run
      expect(r.linksAdded).toEqual([]);
      await executor().teardown();
      expect(state(), `cut after ${cut} commands`).toBe(before);
    }
  });

  it("a ruleset nft refuses is an error and the one in force stays", async () => {
    const ex = executor();
    await ex.apply(want());
    const bad = want();
    bad.tables = [{ family: "ip", name: "euca_gateway", body: "  chain x {\n    nonsense here\n  }\n" }];
    await expect(ex.apply(bad)).rejects.toThrow(NetworkCommandError);
    expect(must(`ip netns exec ${ns} nft list table ip euca_gateway`)).toContain("masquerade");
    await ex.teardown();
    expect(state()).toBe(before);
  });
});
