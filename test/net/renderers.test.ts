/**
 * The renderers against golden files, and every ruleset they make checked by the real
 * nft (`nft -c`, in a namespace of the test's own) — a rule nft would refuse fails here,
 * not on a node.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dhcpArgs, dhcpHostsFile, dhcpOptionsFile } from "../../src/net/dnsmasq";
import { checkView, renderGatewayHost, renderNodeHost } from "../../src/net/managed";
import type { ClusterView } from "../../src/net/view";
import { renderGatewayNetwork, renderNodeNetwork } from "../../src/net/render";
import { matchOf } from "../../src/net/nft/guest-filter";
import { replaceScript } from "../../src/net/nft/names";
import { canNetns, sh } from "../support/netns";

const view: ClusterView = {
  mode: "MANAGED",
  privateRange: "10.128.0.0/16",
  segments: [
    { vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" },
    { vlan: 12, cidr: "10.128.0.64/27", gateway: "10.128.0.65" },
  ],
  instances: [
    {
      instanceId: "i-000000a1",
      node: "n1",
      mac: "d0:0d:00:00:00:a1",
      ip: "10.128.0.34",
      hostname: "euca-10-128-0-34.eucalyptus.internal",
      vlan: 11,
      groupIds: ["sg-a"],
      publicIp: "198.51.100.50",
    },
    {
      instanceId: "i-000000a2",
      node: "n2",
      mac: "d0:0d:00:00:00:a2",
      ip: "10.128.0.35",
      hostname: "euca-10-128-0-35",
      vlan: 11,
      groupIds: ["sg-a"],
    },
    {
      instanceId: "i-000000b1",
      node: "n2",
      mac: "d0:0d:00:00:00:b1",
      ip: "10.128.0.66",
      hostname: "euca-10-128-0-66",
      vlan: 12,
      groupIds: ["sg-b", "sg-a"],
    },
  ],
  rules: {
    "sg-a": [
      { protocol: "tcp", fromPort: 22, toPort: 22, cidr: "0.0.0.0/0" },
      { protocol: "tcp", fromPort: 80, toPort: 80, sourceGroupId: "sg-b" },
      { protocol: "icmp", fromPort: 8, toPort: -1, cidr: "10.0.0.0/8" },
      { protocol: "icmp", fromPort: 3, toPort: 4, cidr: "10.0.0.0/8" },
    ],
    "sg-b": [
      { protocol: "udp", fromPort: 1000, toPort: 2000, cidr: "192.168.1.0/24" },
      { protocol: "-1", fromPort: -1, toPort: -1, sourceGroupId: "sg-a" },
      { protocol: "47", fromPort: -1, toPort: -1, cidr: "192.0.2.7/32" },
    ],
  },
  nodes: { n1: "192.168.50.2", n2: "192.168.50.3" },
  gateway: {
    underlay: "192.168.50.1",
    publicDev: "pub0",
    metadata: { ip: "192.168.50.1", port: 8773 },
    dns: "192.168.50.1",
  },
  vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
  dhcp: { leaseSeconds: 3600, user: "nobody", group: "nogroup" },
};
const tap = (id: string) => `eu${id.slice(2)}`;
const novlan: ClusterView = { ...view, mode: "MANAGED-NOVLAN" };
/** The site's LAN: no segments; STATIC's CC answers DHCP with VNET_MACMAP's pairs; SYSTEM's guest i-000000a2 has not been seen yet. */
const onLan = (mode: "SYSTEM" | "STATIC"): ClusterView => ({
  ...view,
  mode,
  segments: [],
  instances: view.instances.map(({ publicIp: _p, ...i }) => ({
    ...i,
    vlan: 0,
    ...(mode === "SYSTEM" && i.instanceId === "i-000000a2" ? { ip: "", hostname: "" } : {}),
  })),
  lan: {
    bridge: "br0",
    ...(mode === "STATIC"
      ? { dhcp: { dev: "eth0", server: "192.168.50.1", cidr: "10.128.0.0/24", router: "10.128.0.1" } }
      : {}),
  },
});
const port = { tapOf: tap, macOf: (mac: string) => `fe${mac.slice(2)}` };

const rendered = {
  "managed-gateway": renderGatewayHost(view),
  "managed-n1": renderNodeHost(view, "n1", tap),
  "managed-n2": renderNodeHost(view, "n2", tap),
  "novlan-gateway": renderGatewayHost(novlan),
  "novlan-n2": renderNodeHost(novlan, "n2", tap),
  "empty-node": renderNodeHost({ ...view, instances: [] }, "n1", tap),
  // 802.1Q segments on each host's LAN interface instead of VXLAN.
  "vlan-gateway": renderGatewayHost({ ...view, segment: "vlan", gateway: { ...view.gateway, underlayDev: "eth1" } }),
  "vlan-n2": renderNodeHost({ ...view, segment: "vlan" }, "n2", tap, "eth1"),
  "static-gateway": renderGatewayNetwork(onLan("STATIC")),
  "static-n2": renderNodeNetwork(onLan("STATIC"), "n2", port),
  "system-gateway": renderGatewayNetwork(onLan("SYSTEM")),
  "system-n2": renderNodeNetwork(onLan("SYSTEM"), "n2", port),
};

describe("network renderers (golden files)", () => {
  for (const [name, host] of Object.entries(rendered)) {
    it(`${name}: the nft ruleset`, async () => {
      await expect(replaceScript(host.tables)).toMatchFileSnapshot(`../fixtures/net/${name}.nft`);
    });
    it(`${name}: links, addresses, sysctls, translations`, async () => {
      const { tables: _t, dhcp: _d, ...rest } = host;
      await expect(JSON.stringify(rest, null, 1) + "\n").toMatchFileSnapshot(`../fixtures/net/${name}.json`);
    });
  }

  it("dnsmasq: static leases tagged by segment, options per segment, served on every segment bridge", async () => {
    const d = rendered["managed-gateway"].dhcp!;
    await expect(
      dhcpHostsFile(d) + "--\n" + dhcpOptionsFile(d) + "--\n" + dhcpArgs(d, "/run/euca/dhcp").join("\n") + "\n",
    ).toMatchFileSnapshot("../fixtures/net/managed-dnsmasq.txt");
  });

  it("STATIC: dnsmasq on the CC's LAN interface with the pairs in use, the LAN's router; SYSTEM's CC runs nothing", async () => {
    const d = rendered["static-gateway"].dhcp!;
    await expect(
      dhcpHostsFile(d) + "--\n" + dhcpOptionsFile(d) + "--\n" + dhcpArgs(d, "/run/euca/dhcp").join("\n") + "\n",
    ).toMatchFileSnapshot("../fixtures/net/static-dnsmasq.txt");
    expect(rendered["system-gateway"]).toEqual({ links: [], addresses: [], tables: [], sysctls: {}, translations: {} });
  });

  it("on the LAN a node makes only its metadata link; a SYSTEM guest not yet seen is learned, not pinned", () => {
    expect(rendered["static-n2"].links).toEqual([{ kind: "bridge", name: "eucamd" }]);
    expect(rendered["static-n2"].addresses.map((a) => a.cidr)).toEqual(["169.254.169.254/32", "169.254.143.254/20"]);
    const bridge = rendered["system-n2"].tables.find((t) => t.family === "bridge")!.body;
    expect(bridge).toContain('set unpinned {\n    type ifname\n    elements = { "eu000000a2" }');
    expect(bridge).toContain('"eu000000a2" : fe:0d:00:00:00:a2');
    expect(rendered["static-n2"].tables.find((t) => t.family === "bridge")!.body).not.toContain("unpinned");
    // SYSTEM hears the site's DHCP server, whichever it is; STATIC only the CC.
    expect(rendered["system-n2"].tables.find((t) => t.family === "inet")!.body).toContain(
      "    udp sport 67 udp dport 68 accept",
    );
    expect(rendered["static-n2"].tables.find((t) => t.family === "inet")!.body).toContain(
      "ip saddr 192.168.50.1 udp sport 67 udp dport 68 accept",
    );
    expect(renderNodeNetwork({ ...onLan("STATIC"), instances: [] }, "n2", port)).toEqual({
      links: [],
      addresses: [],
      tables: [],
      sysctls: {},
      translations: {},
    });
  });

  it("MANAGED puts groups on segments of their own; NOVLAN on one, its VXLAN flooding to every host with a guest", () => {
    const names = (h: (typeof rendered)["managed-n2"]) => h.links.map((l) => l.name);
    expect(names(rendered["managed-n2"])).toEqual(["eucabr11", "eucavx11", "eucabr12", "eucavx12"]);
    expect(names(rendered["managed-n1"])).toEqual(["eucabr11", "eucavx11"]);
    expect(names(rendered["novlan-n2"])).toEqual(["eucabr", "eucavx"]);
    const vx = rendered["novlan-gateway"].links.find((l) => l.kind === "vxlan");
    expect(vx).toMatchObject({ vni: 1, peers: ["192.168.50.2", "192.168.50.3"] });
    expect(rendered["managed-n1"].links.find((l) => l.name === "eucavx11")).toMatchObject({
      peers: ["192.168.50.1", "192.168.50.3"],
    });
    expect(rendered["empty-node"].links).toEqual([]);
    expect(rendered["vlan-n2"].links.filter((l) => l.kind !== "bridge")).toEqual([
      { kind: "vlan", name: "eucavl11", id: 11, dev: "eth1", master: "eucabr11" },
      { kind: "vlan", name: "eucavl12", id: 12, dev: "eth1", master: "eucabr12" },
    ]);
    expect(renderNodeHost({ ...novlan, segment: "vlan" }, "n2", tap, "eth1").links.map((l) => l.kind)).toEqual([
      "bridge",
      "vxlan",
    ]); // NOVLAN is VXLAN always
    expect(rendered["empty-node"].tables).toEqual([]);
  });

  it("a node checks the view it is sent before any of it reaches a command line", () => {
    // Group ids as the cloud makes them (the fixtures' short ones are for reading).
    const good = JSON.parse(
      JSON.stringify(view).replaceAll('"sg-a"', '"sg-0000000a"').replaceAll('"sg-b"', '"sg-0000000b"'),
    ) as ClusterView;
    expect(checkView(good, "n1")).toBeUndefined();
    expect(checkView(good, "n9")).toBe("node n9 is not in the view");
    expect(checkView(view, "n1")).toBe("an instance is malformed");
    const bad = (patch: (v: ClusterView) => ClusterView) => checkView(patch(structuredClone(good)), "n1");
    expect(bad((v) => ({ ...v, mode: "OPEN" as never }))).toMatch(/unknown mode/);
    expect(bad((v) => ({ ...v, mode: "SYSTEM", lan: { bridge: "br0; reboot" } }))).toMatch(/LAN bridge/);
    expect(
      bad((v) => ({ ...v, mode: "SYSTEM", lan: { bridge: "br0" }, instances: [{ ...v.instances[0]!, ip: "" }] })),
    ).toBeUndefined();
    expect(bad((v) => ({ ...v, instances: [{ ...v.instances[0]!, ip: "" }] }))).toBe("an address is not IPv4");
    expect(bad((v) => ({ ...v, instances: [{ ...v.instances[0]!, mac: "d0:0d:00:00:00:a1; flush ruleset" }] }))).toBe(
      "an instance is malformed",
    );
    expect(bad((v) => ({ ...v, instances: [{ ...v.instances[0]!, ip: "10.0.0.1 }" }] }))).toBe(
      "an address is not IPv4",
    );
    expect(
      bad((v) => ({
        ...v,
        rules: { "sg-0000000a": [{ protocol: "tcp", fromPort: 1, toPort: 2, cidr: "0.0.0.0/0 accept" }] },
      })),
    ).toBe("a rule is malformed");
  });

  it("rules that can match nothing are left out, not rendered wrong", () => {
    const sets = new Map([["sg-x", "members_sg_x"]]);
    expect(matchOf({ protocol: "tcp", fromPort: 10, toPort: 5, cidr: "0.0.0.0/0" }, sets)).toBeUndefined();
    expect(matchOf({ protocol: "tcp", fromPort: 22, toPort: 22, sourceGroupId: "sg-unknown" }, sets)).toBeUndefined();
    expect(matchOf({ protocol: "300", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }, sets)).toBeUndefined();
    expect(matchOf({ protocol: "-1", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }, sets)).toBe("meta nfproto ipv4");
    expect(matchOf({ protocol: "tcp", fromPort: -1, toPort: -1, sourceGroupId: "sg-x" }, sets)).toBe(
      "ip saddr @members_sg_x meta l4proto tcp",
    );
  });
});

describe.runIf(canNetns() || process.env.CI === "true")("every rendered ruleset passes nft -c", () => {
  const ns = `eucheck${process.pid}`;
  beforeAll(() => void sh(`ip netns add ${ns}`));
  afterAll(() => void sh(`ip netns del ${ns}`));
  for (const [name, host] of Object.entries(rendered)) {
    it(name, () => {
      const r = spawnSync("ip", ["netns", "exec", ns, "nft", "-c", "-f", "-"], {
        input: replaceScript(host.tables),
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    });
  }
});
