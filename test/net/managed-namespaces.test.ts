/**
 * MANAGED and MANAGED-NOVLAN with real packets: a head namespace (the CC: gateway, dnsmasq, NAT, the
 * elastic addresses on its public side), two node namespaces joined to it by a LAN
 * (VXLAN over it), an outside client, and namespace stand-ins for guests (a veth on the
 * segment bridge with the guest's MAC, udhcpc). The executor applies what the renderers
 * make of one cluster view; every check is a packet.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetworkExecutor, type NetworkExecutor } from "../../src/net/executor";
import { renderGatewayHost, renderNodeHost, segmentLinks } from "../../src/net/managed";
import type { ClusterView, InstanceView, ManagedMode } from "../../src/net/view";
import type { IngressRule } from "../../src/net/port-forwards";
import { canNetns, clusterTopology, inNamespace, must, Namespaces, sh, standInGuest } from "../support/netns";
import { until } from "../support/until";

const run = canNetns() || process.env.CI === "true";
const ECHO = join(__dirname, "../support/net-echo.mjs");
const tap = (id: string) => `eu${id.slice(2)}`;
const log = pino({ level: "silent" });

const a1: InstanceView = {
  instanceId: "i-000000a1",
  node: "n1",
  mac: "d0:0d:00:00:00:a1",
  ip: "10.128.0.34",
  hostname: "euca-10-128-0-34.eucalyptus.internal",
  vlan: 11,
  groupIds: ["sg-a"],
  publicIp: "198.51.100.50",
};
const a2: InstanceView = {
  instanceId: "i-000000a2",
  node: "n2",
  mac: "d0:0d:00:00:00:a2",
  ip: "10.128.0.35",
  hostname: "euca-10-128-0-35",
  vlan: 11,
  groupIds: ["sg-a"],
};
const b1: InstanceView = {
  instanceId: "i-000000b1",
  node: "n2",
  mac: "d0:0d:00:00:00:b1",
  ip: "10.128.0.66",
  hostname: "euca-10-128-0-66",
  vlan: 12,
  groupIds: ["sg-b"],
  publicIp: "198.51.100.51",
};
const ssh: IngressRule = { protocol: "tcp", fromPort: 22, toPort: 22, cidr: "198.51.100.0/24" };
const webFromB: IngressRule = { protocol: "tcp", fromPort: 80, toPort: 80, sourceGroupId: "sg-b" };
const ping: IngressRule = { protocol: "icmp", fromPort: 8, toPort: -1, cidr: "0.0.0.0/0" };

function viewOf(mode: ManagedMode, instances: InstanceView[], rules: Record<string, IngressRule[]>): ClusterView {
  return {
    mode,
    privateRange: "10.128.0.0/16",
    segments: [
      { vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" },
      { vlan: 12, cidr: "10.128.0.64/27", gateway: "10.128.0.65" },
    ],
    instances,
    rules,
    nodes: { n1: "192.168.50.2", n2: "192.168.50.3" },
    gateway: { underlay: "192.168.50.1", publicDev: "pub0", metadata: { ip: "192.168.50.1", port: 18775 } },
    vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
    dhcp: { leaseSeconds: 3600, user: "nobody", group: "nogroup" },
  };
}

describe.runIf(run).each([
  ["MANAGED", "eut"],
  ["MANAGED-NOVLAN", "euv"],
] as const)("%s mode on nftables and VXLAN, with real packets in namespaces", (mode, prefix) => {
  const nss = new Namespaces(prefix);
  const view = (instances: InstanceView[], rules: Record<string, IngressRule[]>) => viewOf(mode, instances, rules);
  const dir = mkdtempSync(join(tmpdir(), "euca-net-"));
  chmodSync(dir, 0o755); // dnsmasq reads its files as nobody
  const ex: Record<string, NetworkExecutor> = {};
  const before: Record<string, string> = {};
  const snapshot = (n: string) =>
    must(
      `ip -n ${nss.name(n)} -br link show | sort; ip -n ${nss.name(n)} -br addr show | sort; ip netns exec ${nss.name(n)} nft list ruleset`,
    );
  const executor = (n: string) =>
    createNetworkExecutor({ run: inNamespace(nss.name(n)), dir: join(dir, n), dhcpDir: join(dir, `${n}-dhcp`), log });

  async function applyAll(v: ClusterView) {
    const reports = [await ex.head!.apply(renderGatewayHost(v))];
    for (const n of ["n1", "n2"]) reports.push(await ex[n]!.apply(renderNodeHost(v, n, tap)));
    return reports;
  }

  /** What a connection from namespace `from` to ip:port hears within 2 s ("" when refused or dropped). */
  const hear = (from: string, ip: string, port: number) =>
    nss.exec(from, `sh -c 'sleep 0.3 | busybox nc -w 2 ${ip} ${port}'`).out.trim();
  // busybox-static's wget crashes here; an HTTP/1.0 GET by nc is all the stand-in servers need.
  const fetch = (from: string, ip: string, port: number) =>
    nss
      .exec(from, `sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 ${ip} ${port}"`)
      .out.trim()
      .split("\n")
      .pop();

  function serve(n: string, name: string, ...ports: number[]): Promise<void> {
    const p = nss.spawn(n, "node", [ECHO, name, ...ports.map(String)]);
    return new Promise((resolve, reject) => {
      let seen = "";
      p.stdout!.on("data", (d) => (seen += d) && seen.split("listening").length > ports.length && resolve());
      p.on("exit", (c) => reject(new Error(`${name} exited ${c}`)));
    });
  }

  beforeAll(async () => {
    clusterTopology(nss);
    for (const n of ["head", "n1", "n2"]) {
      before[n] = snapshot(n);
      ex[n] = executor(n);
    }
    await serve("head", "metadata", 18775);
    await serve("out", "outside", 8000, 2222);
    await applyAll(view([a1, a2, b1], { "sg-a": [ssh, webFromB, ping], "sg-b": [] }));
    // The hypervisor puts each guest's tap on its segment's bridge; stand-ins do the same.
    const guests = { a1, a2, b1 };
    for (const [name, i] of Object.entries(guests)) {
      const g = standInGuest(nss, {
        name,
        node: i.node,
        tap: tap(i.instanceId),
        mac: i.mac,
        bridge: segmentLinks(mode, i.vlan).bridge,
        dir,
      });
      leases[name] = g.dhcp();
      await serve(name, name, 22, 80);
    }
  }, 60_000);

  const leases: Record<string, string> = {};

  afterAll(() => {
    if (process.env.EUCA_KEEP_NETNS) return;
    nss.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("each guest gets its lease over VXLAN from the gateway's dnsmasq: address, router, host name, MTU", () => {
    expect(leases.a1).toContain(
      "ip=10.128.0.34 subnet=255.255.255.224 router=10.128.0.33 hostname=euca-10-128-0-34 mtu=1450",
    );
    expect(leases.a2).toContain("ip=10.128.0.35 subnet=255.255.255.224 router=10.128.0.33");
    expect(leases.b1).toContain("ip=10.128.0.66 subnet=255.255.255.224 router=10.128.0.65");
  });

  it("a guest's metadata request to 169.254.169.254 reaches the metadata service from its own private address", () => {
    expect(fetch("a1", "169.254.169.254", 80)).toBe("10.128.0.34");
    expect(fetch("b1", "169.254.169.254", 80)).toBe("10.128.0.66");
  });

  it("tcp/22 is let in from the authorized CIDR (through the elastic address) and not from another", () => {
    expect(hear("out", "198.51.100.50", 22)).toBe("a1:22 from 198.51.100.2");
    expect(hear("b1", "10.128.0.34", 22)).toBe("");
    expect(hear("a2", "10.128.0.34", 22)).toBe(""); // its own group, another node: no rule lets the group in
  });

  it("a grant to a group lets its members in across nodes; groups without one stay apart", () => {
    expect(hear("b1", "10.128.0.34", 80)).toBe("a1:80 from 10.128.0.66");
    expect(hear("a1", "10.128.0.66", 22)).toBe("");
    expect(hear("a2", "10.128.0.66", 22)).toBe(""); // same node, other segment
    expect(nss.exec("out", "busybox ping -c 1 -W 1 198.51.100.50").status).toBe(0); // icmp echo-request from anywhere
    expect(nss.exec("a1", "busybox ping -c 1 -W 1 10.128.0.66").status).not.toBe(0); // sg-b lets nothing in
  });

  it("egress leaves from the elastic address, or masqueraded behind the gateway without one", () => {
    expect(fetch("a1", "198.51.100.2", 8000)).toBe("198.51.100.50");
    expect(fetch("a2", "198.51.100.2", 8000)).toBe("198.51.100.1");
  });

  it("a guest reaching another at its elastic address goes through the gateway and arrives from its own (hairpin)", async () => {
    expect(hear("b1", "198.51.100.50", 22)).toBe("a1:22 from 198.51.100.51");
    expect(hear("a2", "198.51.100.50", 22)).toBe(""); // no elastic address: from the gateway, which no rule lets in
    expect(fetch("a2", "198.51.100.51", 80)).toBe(""); // b1's group lets nothing in, by any address
  });

  it("an elastic address moved to another instance takes its flows with it: the old one is cut, a new one reaches the new instance", async () => {
    const held = nss.spawn("out", "busybox", ["nc", "198.51.100.50", "22"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    const exited = new Promise((r) => held.on("exit", r));
    await until(() => heard.includes("a1:22"));
    const moved = { ...a1, publicIp: undefined },
      to = { ...a2, publicIp: "198.51.100.50" };
    await applyAll(view([moved, to, b1], { "sg-a": [ssh, webFromB, ping], "sg-b": [] }));
    held.stdin!.write("to whom?\n");
    await exited; // reset by a2, which never had this connection
    expect(heard).not.toContain("to whom?");
    expect(hear("out", "198.51.100.50", 22)).toBe("a2:22 from 198.51.100.2");
    await applyAll(view([a1, a2, b1], { "sg-a": [ssh, webFromB, ping], "sg-b": [] }));
    expect(hear("out", "198.51.100.50", 22)).toBe("a1:22 from 198.51.100.2");
  });

  it("a revoke stops new connections and keeps the established one", async () => {
    const held = nss.spawn("out", "busybox", ["nc", "198.51.100.50", "22"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(() => heard.includes("a1:22"));
    await applyAll(view([a1, a2, b1], { "sg-a": [webFromB, ping], "sg-b": [] }));
    expect(hear("out", "198.51.100.50", 22)).toBe("");
    held.stdin!.write("still here\n");
    await until(() => heard.includes("still here"));
    held.kill();
  });

  it("applying the same view again (a restarted CC or node) changes nothing and drops no flow", async () => {
    const held = nss.spawn("b1", "busybox", ["nc", "10.128.0.34", "80"]);
    let heard = "";
    held.stdout!.on("data", (d) => (heard += d));
    await until(() => heard.includes("a1:80"));
    for (const n of ["head", "n1", "n2"]) ex[n] = executor(n);
    const reports = await applyAll(view([a1, a2, b1], { "sg-a": [webFromB, ping], "sg-b": [] }));
    for (const r of reports)
      expect({ added: r.linksAdded, removed: r.linksRemoved, addrs: r.addressesAdded + r.addressesRemoved }).toEqual({
        added: [],
        removed: [],
        addrs: 0,
      });
    expect(reports[0]!.dhcp).toBe("unchanged");
    held.stdin!.write("after restart\n");
    await until(() => heard.includes("after restart"));
    held.kill();
  });

  it("terminate removes the instance's rules, links, lease and elastic address everywhere", async () => {
    await applyAll(view([a2, b1], { "sg-a": [webFromB, ping], "sg-b": [] }));
    expect(must(`ip netns exec ${nss.name("n1")} nft list ruleset`)).not.toContain("eu000000a1");
    expect(sh(`ip -n ${nss.name("n1")} link show ${segmentLinks(mode, 11).bridge}`).status).not.toBe(0); // n1 has no guest left on the segment
    expect(readFileSync(join(dir, "head-dhcp/hosts"), "utf8")).not.toContain("d0:0d:00:00:00:a1");
    expect(must(`ip -n ${nss.name("head")} addr show pub0`)).not.toContain("198.51.100.50");
    expect(must(`ip netns exec ${nss.name("head")} nft list map ip euca_gateway elastic_in`)).not.toContain(
      "198.51.100.50",
    );
    expect(hear("out", "198.51.100.50", 22)).toBe("");
  });

  it("teardown leaves each namespace's links, addresses and nftables as they were", async () => {
    for (const n of ["head", "n1", "n2"]) {
      if (n !== "head") sh(`ip -n ${nss.name(n)} link del ${tap(n === "n1" ? a1.instanceId : a2.instanceId)}`);
      if (n === "n2") sh(`ip -n ${nss.name(n)} link del ${tap(b1.instanceId)}`);
      await ex[n]!.teardown();
      expect(snapshot(n)).toBe(before[n]);
    }
    expect(sh(`ip netns pids ${nss.name("head")} | xargs -r ps -o comm= -p`).out).not.toContain("dnsmasq");
  });
});
