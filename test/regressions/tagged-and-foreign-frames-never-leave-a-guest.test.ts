/**
 * Regression (issue 25, item 5): 802.1Q and 802.1ad tagged frames passed a node's
 * anti-spoofing guard and every group rule: the guard matched `ether type ip|arp|ip6`
 * only, and tagged frames never reach the inet hooks, so two guests on one bridge
 * could talk over a VLAN of their own whatever their groups said. Now a guest's tap
 * passes only untagged IPv4 and ARP (both still checked), in every mode that bridges.
 * With real packets in namespaces: two guests on one node, in a group that lets
 * nothing in.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetworkExecutor } from "../../src/net/executor";
import { renderNodeHost, segmentLinks } from "../../src/net/managed";
import type { ClusterView, InstanceView, ManagedMode } from "../../src/net/view";
import { canNetns, clusterTopology, inNamespace, must, Namespaces, standInGuest } from "../support/netns";

const run = canNetns() || process.env.CI === "true";
const ECHO = join(__dirname, "../support/net-echo.mjs");
const tap = (id: string) => `eu${id.slice(2)}`;
const g1: InstanceView = {
  instanceId: "i-000000c1",
  node: "n1",
  mac: "d0:0d:00:00:00:c1",
  ip: "10.128.0.34",
  hostname: "g1",
  vlan: 11,
  groupIds: ["sg-closed"],
};
const g2: InstanceView = {
  instanceId: "i-000000c2",
  node: "n1",
  mac: "d0:0d:00:00:00:c2",
  ip: "10.128.0.35",
  hostname: "g2",
  vlan: 11,
  groupIds: ["sg-closed"],
};

/**
 * python3's AF_PACKET on eth0: `send <dst MAC> <hex>...` sends five frames of each hex
 * (what follows the MACs: ether type, any tags, the inner header) with a probe naming
 * its kind; `listen <seconds>` prints how many probes of each kind it heard.
 */
const RAW = `
import json, socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("eth0", 0))
if sys.argv[1] == "send":
    dst = bytes.fromhex(sys.argv[2].replace(":", "")); src = s.getsockname()[4]
    for _ in range(5):
        for i, h in enumerate(sys.argv[3:]):
            s.send(dst + src + bytes.fromhex(h) + b"euca-probe-%02d." % i + bytes(40))
        time.sleep(0.02)
else:
    s.settimeout(0.2); n = {}; end = time.time() + float(sys.argv[2])
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        i = f.find(b"euca-probe-")
        if i >= 0:
            k = int(f[i + 11:i + 13]); n[k] = n.get(k, 0) + 1
    print(json.dumps(n))
`;

describe.runIf(run).each([
  ["MANAGED", "euq"],
  ["MANAGED-NOVLAN", "euw"],
] as const)("%s: a guest's tap", (mode: ManagedMode, prefix) => {
  const nss = new Namespaces(prefix);
  const dir = mkdtempSync(join(tmpdir(), "euca-tags-"));
  chmodSync(dir, 0o755);
  const view: ClusterView = {
    mode,
    privateRange: "10.128.0.0/16",
    segments: [{ vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" }],
    instances: [g1, g2],
    rules: { "sg-closed": [] },
    nodes: { n1: "192.168.50.2", n2: "192.168.50.3" },
    gateway: { underlay: "192.168.50.1", publicDev: "pub0", metadata: { ip: "192.168.50.1", port: 18775 } },
    vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
    dhcp: { leaseSeconds: 3600, user: "nobody", group: "nogroup" },
  };
  const hear = (from: string, ip: string) => nss.exec(from, `sh -c 'sleep 0.3 | busybox nc -w 2 ${ip} 80'`).out.trim();

  beforeAll(async () => {
    clusterTopology(nss);
    const ex = createNetworkExecutor({
      run: inNamespace(nss.name("n1")),
      dir: join(dir, "n1"),
      dhcpDir: join(dir, "n1-dhcp"),
      log: pino({ level: "silent" }),
    });
    await ex.apply(renderNodeHost(view, "n1", tap));
    for (const [name, g] of [
      ["g1", g1],
      ["g2", g2],
    ] as const) {
      standInGuest(nss, {
        name,
        node: "n1",
        tap: tap(g.instanceId),
        mac: g.mac,
        bridge: segmentLinks(mode, 11).bridge,
        dir,
      });
      must(`ip -n ${nss.name(name)} addr add ${g.ip}/27 dev eth0`);
    }
    const p = nss.spawn("g2", "node", [ECHO, "g2", "80"]);
    await new Promise<void>((resolve) => p.stdout!.on("data", () => resolve()));
  }, 60_000);

  afterAll(() => {
    nss.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("untagged IPv4 still meets the group's rules (which let nothing in)", () => {
    expect(hear("g1", g2.ip)).toBe("");
  });

  /** How many of the five frames of each kind sent from g1 to g2's MAC g2 heard, by kind. */
  async function heard(kinds: ReadonlyArray<[string, string]>): Promise<Record<string, number>> {
    const listening = new Promise<string>((resolve) => {
      const l = nss.spawn("g2", "/usr/bin/python3", ["-c", RAW, "listen", "1.5"]);
      let out = "";
      l.stdout!.on("data", (d) => (out += d));
      l.on("exit", () => resolve(out.trim()));
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(
      nss.exec("g1", `/usr/bin/python3 -c '${RAW}' send ${g2.mac} ${kinds.map(([, hex]) => hex).join(" ")}`).status,
    ).toBe(0);
    const counts = JSON.parse(await listening) as Record<string, number>;
    return Object.fromEntries(kinds.map(([what], i) => [what, counts[i] ?? 0]));
  }

  // An IPv4 header from g1's own address to g2's, as a guest's VLAN would carry it.
  const IPV4 = "0800" + "4500004400000000401100000a8000220a800023";
  const KINDS: Array<[string, string]> = [
    ["802.1Q", "8100" + "0064" + IPV4],
    ["802.1Q, priority only (VLAN 0)", "8100" + "e000" + IPV4],
    ["802.1ad over 802.1Q (QinQ)", "88a8" + "00c8" + "8100" + "0064" + IPV4],
    ["802.1Q carrying ARP", "8100" + "0064" + "0806" + "0001080006040001"],
    ["IPv6", "86dd" + "6000000000000000"],
    ["0x88b5 (local experimental)", "88b5"],
    ["IPX", "8137"],
    ["an 802.3 length field", "0040"],
  ];
  it("passes no tagged frame (802.1Q, 802.1ad) and no frame of another ether type", async () => {
    expect(await heard(KINDS)).toEqual(Object.fromEntries(KINDS.map(([what]) => [what, 0])));
  });
});
