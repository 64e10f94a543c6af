/**
 * Eucalyptus' MANAGED and MANAGED-NOVLAN modes as host networks, rendered from one view
 * of the cluster. Pure: the CC renders its own (the gateway) and each node renders its
 * own from the same view, so both sides agree on every name.
 *
 * - MANAGED: each security group's network is a segment of its own — a bridge
 *   `eucabr<vlan>` on every host with a member, joined across hosts by a VXLAN port
 *   `eucavx<vlan>` whose VNI is the group's VLAN tag (a site then needs no VLAN-clean
 *   switch), or with VNET_SEGMENT vlan an 802.1Q device `eucavl<vlan>` on
 *   VNET_PRIVINTERFACE, as Eucalyptus did. Guests of two groups share no L2 at all.
 * - MANAGED-NOVLAN: one segment (`eucabr` + `eucavx`) holding every group's subnet;
 *   groups are kept apart by the nodes' filtering alone.
 *
 * In both the CC is every subnet's gateway (.1): DHCP, the route out (masquerade or the
 * elastic address), the metadata redirect and the elastic addresses on its public
 * interface. Nodes carry only the segments of their own guests and filter each guest's
 * ingress (nft/guest-filter.ts). The VXLAN underlay needs nodes to reach the CC (and the
 * nodes sharing a segment, each other) on the cluster's private network; only the CC
 * needs a public address.
 */
import { isResourceId } from "../common/ids";
import type { DhcpConfig } from "./dnsmasq";
import { emptyNetwork, type HostNetwork, type LinkSpec } from "./host-network";
import { isIpv4, parseCidr } from "./ipv4";
import { renderGateway } from "./nft/gateway";
import { renderGuestFilter, type GuestPort } from "./nft/guest-filter";
import { VNET_MODES, hasHostNetwork, isLanMode, isVnetMode, type NetworkMode } from "./modes";
import type { ClusterView } from "./view";

/** The segment bridge and VXLAN port names of a VLAN tag (or of the one NOVLAN segment). */
export function segmentLinks(
  mode: NetworkMode,
  vlan: number,
): { bridge: string; vxlan: string; vlanDev: string; vni: number; tag: string; port: string; router: string } {
  const perGroup = VNET_MODES[mode].segments === "per-group";
  const n = perGroup ? String(vlan) : "";
  return {
    bridge: `eucabr${n}`,
    vxlan: `eucavx${n}`,
    vlanDev: `eucavl${n}`,
    vni: perGroup ? vlan : -1,
    tag: `seg${vlan}`,
    port: `eucagw${n}`,
    router: `eucart${n}`,
  };
}

/** Whether segments cross hosts as 802.1Q VLANs on `dev` (a segment per group, carried as "vlan"). */
const vlanOn = (v: ClusterView, dev: string | undefined): string | undefined =>
  VNET_MODES[v.mode].segments === "per-group" && v.segment === "vlan" ? dev : undefined;

function vniOf(v: ClusterView, vlan: number): number {
  const l = segmentLinks(v.mode, vlan);
  return l.vni === -1 ? v.vxlan.novlanVni : l.vni;
}

/**
 * The bridges (with their VXLAN ports) a host needs, `peersOf` giving each segment's other
 * hosts. A segment no other host shares has no VXLAN port (a node on the gateway's host).
 */
function segmentLinkSpecs(
  v: ClusterView,
  vlans: Iterable<number>,
  local: string,
  dev: string | undefined,
  peersOf: (vlan: number) => string[],
  privDev?: string,
): LinkSpec[] {
  const out = new Map<string, { vlan: number; peers: Set<string> }>();
  for (const vlan of vlans) {
    const l = segmentLinks(v.mode, vlan);
    // NOVLAN: one segment for every group; its peers are every group's hosts.
    const seg = out.get(l.bridge) ?? { vlan, peers: new Set<string>() };
    for (const p of peersOf(vlan)) seg.peers.add(p);
    out.set(l.bridge, seg);
  }
  const vlanDev = vlanOn(v, privDev);
  return [...out.values()].flatMap(({ vlan, peers }): LinkSpec[] => {
    const l = segmentLinks(v.mode, vlan);
    const bridge: LinkSpec = { kind: "bridge", name: l.bridge };
    if (!peers.size) return [bridge];
    // A tagged LAN carries the segment to every host on it: no peers to name.
    if (vlanDev) return [bridge, { kind: "vlan", name: l.vlanDev, id: vlan, dev: vlanDev, master: l.bridge }];
    return [
      bridge,
      {
        kind: "vxlan",
        name: l.vxlan,
        vni: vniOf(v, vlan),
        local,
        dev,
        port: v.vxlan.port,
        master: l.bridge,
        peers: [...peers].sort(),
        mtu: v.vxlan.mtu,
      },
    ];
  });
}

const nodesWith = (v: ClusterView, vlan: number) =>
  [...new Set(v.instances.filter((i) => VNET_MODES[v.mode].segments === "one" || i.vlan === vlan).map((i) => i.node))]
    .map((n) => v.nodes[n])
    .filter((a): a is string => !!a);

/** The CC's host network: every segment with its gateway, DHCP, NAT and the elastic addresses. */
export function renderGatewayHost(v: ClusterView): HostNetwork {
  // Without guests the gateway has nothing: no segment, no table, no dnsmasq.
  if (!v.instances.length) return emptyNetwork();
  // A node on the gateway's own host shares its bridges: no VXLAN to itself.
  const links = segmentLinkSpecs(
    v,
    v.segments.map((s) => s.vlan),
    v.gateway.underlay,
    v.gateway.underlayDev,
    (vlan) => nodesWith(v, vlan).filter((a) => a !== v.gateway.underlay),
    v.gateway.underlayDev,
  );
  // The gateway's addresses are on a veth outside each segment's bridge, not on the bridge:
  // br_netfilter re-bridges a packet DNATed back onto the bridge it came from, and the
  // bridge never sends a frame out the port it arrived by — which is where a guest reaching
  // another (on the same VXLAN port) by its elastic address would be. Through the veth it is
  // routed, and enters the bridge by the veth's port.
  const routers = [
    ...new Map(v.segments.map((s) => [segmentLinks(v.mode, s.vlan).bridge, segmentLinks(v.mode, s.vlan)])).values(),
  ];
  links.push(
    ...routers.map((l): LinkSpec => ({
      kind: "veth",
      name: l.port,
      peer: l.router,
      master: l.bridge,
      mtu: v.vxlan.mtu,
    })),
  );
  const addresses = v.segments.map((s) => ({
    dev: segmentLinks(v.mode, s.vlan).router,
    cidr: `${s.gateway}/${parseCidr(s.cidr)!.bits}`,
  }));
  const elastic = v.instances.filter((i) => i.publicIp).map((i) => ({ publicIp: i.publicIp!, privateIp: i.ip }));
  for (const e of elastic)
    addresses.push({
      dev: v.gateway.publicDev,
      cidr: `${e.publicIp}/32`,
      announce: true,
    } as (typeof addresses)[number]);
  const dhcp: DhcpConfig = {
    range: v.privateRange,
    interfaces: VNET_MODES[v.mode].segments === "per-group" ? "eucart*" : "eucart",
    segments: v.segments.map((s) => ({
      tag: segmentLinks(v.mode, s.vlan).tag,
      cidr: s.cidr,
      router: s.gateway,
      mtu: v.vxlan.mtu,
    })),
    hosts: v.instances.map((i) => ({
      mac: i.mac,
      ip: i.ip,
      hostname: i.hostname,
      tag: segmentLinks(v.mode, i.vlan).tag,
    })),
    dns: v.gateway.dns,
    leaseSeconds: v.dhcp.leaseSeconds,
    user: v.dhcp.user,
    group: v.dhcp.group,
  };
  return {
    links,
    addresses,
    tables: [renderGateway({ privateRange: v.privateRange, metadata: v.gateway.metadata, elastic })],
    sysctls: { "net.ipv4.ip_forward": "1" },
    dhcp,
    translations: Object.fromEntries(elastic.map((e) => [e.publicIp, e.privateIp])),
  };
}

/**
 * A node's host network: the segments of its guests, joined to the gateway and to the
 * other nodes with members, and the filter of its guests. `tapOf` names a guest's tap
 * (the hypervisor driver makes it and puts it on the segment's bridge).
 */
export function renderNodeHost(
  v: ClusterView,
  node: string,
  tapOf: (instanceId: string) => string,
  privDev?: string,
): HostNetwork {
  const local = v.nodes[node];
  if (!local) throw new Error(`node ${node} is not in the cluster's view`);
  const mine = v.instances.filter((i) => i.node === node);
  const segments = new Map(v.segments.map((s) => [s.vlan, s]));
  const vlans = [...new Set(mine.map((i) => i.vlan))].filter((vlan) => segments.has(vlan));
  // On the gateway's own host the gateway's bridges are the guests' (made and kept by the CC).
  const colocated = local === v.gateway.underlay;
  const links = colocated
    ? []
    : segmentLinkSpecs(
        v,
        vlans,
        local,
        undefined,
        (vlan) => [v.gateway.underlay, ...nodesWith(v, vlan).filter((a) => a !== local)],
        privDev,
      );
  const guests: GuestPort[] = mine
    .filter((i) => segments.has(i.vlan))
    .map((i) => ({
      instanceId: i.instanceId,
      tap: tapOf(i.instanceId),
      mac: i.mac,
      ip: i.ip,
      dhcpFrom: segments.get(i.vlan)!.gateway,
      groupIds: i.groupIds,
    }));
  const granted = new Set(
    guests
      .flatMap((g) => g.groupIds)
      .flatMap((gid) => (v.rules[gid] ?? []).map((r) => r.sourceGroupId).filter((s): s is string => !!s)),
  );
  const members = new Map(
    [...granted].map((gid) => [gid, v.instances.filter((i) => i.groupIds.includes(gid)).map((i) => i.ip)]),
  );
  const rules = new Map(Object.entries(v.rules));
  return {
    links,
    addresses: [],
    tables: renderGuestFilter({ guests, rules, members }),
    sysctls: { "net.bridge.bridge-nf-call-iptables": "1" },
    translations: {},
  };
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * Why a view cannot be rendered safely (a value that is not what its field holds), or
 * undefined. The node checks what it is sent before any of it reaches a command line.
 */
export function checkView(v: ClusterView, node: string): string | undefined {
  if (
    !v ||
    typeof v !== "object" ||
    !Array.isArray(v.instances) ||
    !Array.isArray(v.segments) ||
    typeof v.nodes !== "object" ||
    typeof v.rules !== "object"
  )
    return "not a cluster view";
  if (!isVnetMode(v.mode) || !hasHostNetwork(v.mode)) return `unknown mode ${String(v.mode)}`;
  const lan = isLanMode(v.mode);
  if (lan && !/^[A-Za-z0-9_.:-]{1,15}$/.test(String(v.lan?.bridge))) return "the LAN bridge is not an interface name";
  if (v.segment !== undefined && v.segment !== "vxlan" && v.segment !== "vlan")
    return `unknown segment kind ${String(v.segment)}`;
  if (!v.nodes[node]) return `node ${node} is not in the view`;
  // Addresses from the site's DHCP (SYSTEM): one not seen given yet is "".
  const addrs = [
    v.gateway?.underlay,
    ...Object.values(v.nodes),
    ...v.segments.map((s) => s.gateway),
    ...v.instances.map((i) => i.ip).filter((ip) => !(VNET_MODES[v.mode].addressing === "site" && ip === "")),
    ...(v.lan?.dhcp ? [v.lan.dhcp.server] : []),
  ];
  if (!addrs.every((a) => typeof a === "string" && isIpv4(a))) return "an address is not IPv4";
  if (!v.segments.every((s) => Number.isInteger(s.vlan) && s.vlan > 0 && s.vlan < 16777216 && !!parseCidr(s.cidr)))
    return "a segment is malformed";
  if (
    !v.instances.every(
      (i) =>
        MAC.test(i.mac) &&
        isResourceId("instance", i.instanceId) &&
        Array.isArray(i.groupIds) &&
        i.groupIds.every((g) => isResourceId("securityGroup", g)),
    )
  )
    return "an instance is malformed";
  const rules = Object.entries(v.rules).every(
    ([g, rs]) =>
      isResourceId("securityGroup", g) &&
      Array.isArray(rs) &&
      rs.every(
        (r) =>
          /^(tcp|udp|icmp|-1|\d{1,3})$/.test(String(r.protocol)) &&
          Number.isInteger(r.fromPort) &&
          Number.isInteger(r.toPort) &&
          (r.cidr === undefined || !!parseCidr(r.cidr)) &&
          (r.sourceGroupId === undefined || isResourceId("securityGroup", r.sourceGroupId)),
      ),
  );
  return rules ? undefined : "a rule is malformed";
}
