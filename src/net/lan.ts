/**
 * Eucalyptus' SYSTEM and STATIC modes as host networks: guests' taps join the node's
 * existing bridge on the site's LAN (VNET_BRIDGE, which the site made and euca never
 * changes), so a guest is a machine on that LAN.
 *
 * - SYSTEM: the site's DHCP server addresses guests. The node learns each guest's address
 *   from what it sends (an nft set the kernel fills from the guest's first ARP or IPv4
 *   packet, guest-filter.ts); the CC records it and the CLC reports it.
 * - STATIC: the CC answers DHCP on its LAN interface with VNET_MACMAP's pairs, each
 *   instance holding one (MAC and address known before it starts).
 *
 * In both, as in MANAGED, each guest's ingress passes its groups' rules on its node and
 * it sends only with its own MAC (and, once known, its own address). Elastic addresses
 * do not exist here (a guest's address is on the LAN already). Metadata, which Eucalyptus
 * 1.6 had not in these modes, is answered by each node itself: it knows the guest by the
 * port its request came in by (guest-filter.ts' metadata maps), and asks the CLC.
 */
import type { DhcpConfig } from "./dnsmasq";
import { emptyNetwork, type HostNetwork } from "./host-network";
import { intToIp, ipToInt, parseCidr } from "./ipv4";
import { METADATA_IP, renderGuestFilter, type GuestPort } from "./nft/guest-filter";
import type { ClusterView, InstanceView } from "./view";

/** The link that holds the node's metadata responder's address, and the addresses it holds. */
export const METADATA_LINK = "eucamd";
/**
 * Guests' metadata requests arrive from 169.254.128.1 onwards, one address per guest on
 * this node (169.254.128.0/20: 4,094 of them); the responder's link has a route to them.
 */
const SOURCE_BASE = ipToInt("169.254.128.0");
const SOURCE_ROUTE = "169.254.143.254/20";

/**
 * The address a node's guests' metadata requests seem to come from, by guest: the n-th
 * (by instance id) of the node's guests gets 169.254.128.n.
 */
export function metadataSources(v: ClusterView, node: string): Map<string, string> {
  const mine = v.instances
    .filter((i) => i.node === node)
    .map((i) => i.instanceId)
    .sort();
  return new Map(mine.map((id, n) => [id, intToIp(SOURCE_BASE + n + 1)]));
}

/** The CC in SYSTEM and STATIC: STATIC's DHCP on the LAN; nothing at all in SYSTEM. */
export function renderLanGatewayHost(v: ClusterView): HostNetwork {
  const d = v.lan?.dhcp;
  const leased = v.instances.filter((i) => i.ip);
  if (!d || !leased.length) return emptyNetwork();
  const dhcp: DhcpConfig = {
    range: d.cidr,
    interfaces: d.dev,
    segments: [{ tag: "lan", cidr: d.cidr, router: d.router, broadcast: d.broadcast }],
    hosts: leased.map((i) => ({ mac: i.mac, ip: i.ip, hostname: i.hostname, tag: "lan" })),
    dns: v.gateway.dns,
    leaseSeconds: v.dhcp.leaseSeconds,
    user: v.dhcp.user,
    group: v.dhcp.group,
  };
  return { ...emptyNetwork(), dhcp };
}

/**
 * A node in SYSTEM or STATIC: its guests' filter (their taps are on the LAN bridge) and
 * the metadata responder's link. Nothing while it has no guests.
 */
export function renderLanNodeHost(
  v: ClusterView,
  node: string,
  port: { tapOf: (instanceId: string) => string; macOf: (guestMac: string) => string },
): HostNetwork {
  const mine: InstanceView[] = v.instances.filter((i) => i.node === node);
  if (!mine.length) return emptyNetwork();
  const dhcpFrom = v.lan?.dhcp?.server;
  const guests: GuestPort[] = mine.map((i) => ({
    instanceId: i.instanceId,
    tap: port.tapOf(i.instanceId),
    mac: i.mac,
    ip: i.ip,
    dhcpFrom,
    groupIds: i.groupIds,
  }));
  const granted = new Set(
    guests
      .flatMap((g) => g.groupIds)
      .flatMap((gid) => (v.rules[gid] ?? []).map((r) => r.sourceGroupId).filter((s): s is string => !!s)),
  );
  const members = new Map(
    [...granted].map((gid) => [gid, v.instances.filter((i) => i.ip && i.groupIds.includes(gid)).map((i) => i.ip)]),
  );
  const sources = metadataSources(v, node);
  const metadata = new Map(
    mine.map((i) => [i.instanceId, { portMac: port.macOf(i.mac), source: sources.get(i.instanceId)! }]),
  );
  return {
    links: [{ kind: "bridge", name: METADATA_LINK }],
    addresses: [
      { dev: METADATA_LINK, cidr: `${METADATA_IP}/32` },
      { dev: METADATA_LINK, cidr: SOURCE_ROUTE },
    ],
    tables: renderGuestFilter({ guests, rules: new Map(Object.entries(v.rules)), members, metadata }),
    sysctls: { "net.bridge.bridge-nf-call-iptables": "1" },
    translations: {},
  };
}

/** STATIC's LAN: the network of VNET_MACMAP's first address under VNET_NETMASK. */
export function lanCidrOf(firstIp: string, netmask: string): string {
  const bits = 32 - Math.log2(2 ** 32 - ipToInt(netmask));
  const c = parseCidr(`${firstIp}/${bits}`)!;
  return `${intToIp(c.base)}/${bits}`;
}
