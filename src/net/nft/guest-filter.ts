/**
 * A node's security-group enforcement: every packet to a guest on this host passes that
 * guest's ingress rules, whether it comes from a guest on the same bridge, from another
 * node over VXLAN, or from outside through the gateway. Rendered as two tables:
 *
 * - `table bridge euca_node` sees each bridged packet with the bridge port it leaves by
 *   (the guest's tap) and marks it with the guest's profile (its groups); it also drops
 *   what a guest sends with a MAC or IPv4 address that is not its own (so a grant to a
 *   group's members cannot be borrowed by spoofing), and any frame to or from a guest
 *   but untagged IPv4 and ARP (the rules are IPv4; a tagged frame would skip them).
 * - `table inet euca_node` filters with conntrack (which the bridge family has not on
 *   this kernel; br_netfilter hands bridged IPv4 to the inet hooks): a marked packet goes
 *   to its profile's chain (the gateway's traffic is bridged too: it enters a segment by
 *   its veth port, net/managed.ts): replies and established flows pass (so a revoke leaves them), DHCP
 *   from the segment's gateway passes, then each group's rules, then drop.
 *
 * A grant to a group matches a set of its members' private addresses, so it is one rule
 * however many members the group has. Pure.
 */
import type { IngressRule } from "../port-forwards";
import { ident, NODE_TABLE, type NftTable } from "./names";

export interface GuestPort {
  instanceId: string;
  /** The guest's tap on its bridge. */
  tap: string;
  mac: string;
  /** Its private address; "" while it is unknown (SYSTEM: the site's DHCP has not been seen yet). */
  ip: string;
  /** The DHCP server it may hear from (its segment's gateway, STATIC's CC); undefined: any (SYSTEM: the site's). */
  dhcpFrom?: string;
  groupIds: readonly string[];
}

export interface GuestFilterInput {
  guests: readonly GuestPort[];
  /** The rules of every group a guest here is in. */
  rules: ReadonlyMap<string, readonly IngressRule[]>;
  /** Private addresses of the members of every group a rule here grants to. */
  members: ReadonlyMap<string, readonly string[]>;
  /**
   * SYSTEM and STATIC: this node answers its guests' 169.254.169.254 itself
   * (net/lan.ts). Each guest's requests are handed to the host by its tap — rewritten to
   * the tap's own MAC (`portMac`, a local address of the bridge) — and their source
   * translated to the guest's `source`, so the responder knows the guest by its port.
   */
  metadata?: ReadonlyMap<string, { portMac: string; source: string }>;
}

/** Where a node's metadata responder listens (an address on its own link, net/lan.ts). */
export const METADATA_IP = "169.254.169.254";

/** Marks carry the guest's profile from the bridge family to the inet one; this is their range. */
const MARK_BASE = 0x45750000;
/** And these the guest whose metadata request it is. */
const METADATA_MARK_BASE = 0x45760000;

const hex = (n: number) => `0x${n.toString(16)}`;
const quoted = (s: string) => `"${s}"`;

/** One ingress rule as an nft rule (without the verdict), or undefined when it can match nothing. */
export function matchOf(r: IngressRule, sets: ReadonlyMap<string, string>): string | undefined {
  const from = r.sourceGroupId
    ? `ip saddr @${sets.get(r.sourceGroupId)}`
    : r.cidr && !/\/0$/.test(r.cidr)
      ? `ip saddr ${r.cidr}`
      : "";
  if (r.sourceGroupId && !sets.has(r.sourceGroupId)) return undefined;
  const proto = r.protocol.toLowerCase();
  const parts = [from];
  if (proto === "tcp" || proto === "udp" || proto === "6" || proto === "17") {
    const name = proto === "tcp" || proto === "6" ? "tcp" : "udp";
    const [lo, hi] = r.fromPort === -1 ? [0, 65535] : [r.fromPort, r.toPort];
    if (lo < 0 || hi > 65535 || lo > hi) return undefined;
    parts.push(lo === 0 && hi === 65535 ? `meta l4proto ${name}` : `${name} dport ${lo === hi ? lo : `${lo}-${hi}`}`);
  } else if (proto === "icmp" || proto === "1") {
    // fromPort is the ICMP type, toPort the code; -1 means any.
    parts.push(r.fromPort === -1 ? "meta l4proto icmp" : `icmp type ${r.fromPort}`);
    if (r.fromPort !== -1 && r.toPort !== -1) parts.push(`icmp code ${r.toPort}`);
  } else if (proto !== "-1" && proto !== "all") {
    if (!/^\d{1,3}$/.test(proto) || Number(proto) > 255) return undefined;
    parts.push(`ip protocol ${proto}`);
  }
  return parts.filter(Boolean).join(" ") || "meta nfproto ipv4";
}

/**
 * Guests with the same groups and gateway share one chain (a profile), so the ruleset
 * grows with the groups on a node, not with its guests: the bridge family looks the
 * guest's profile up by its tap in one map, and the anti-spoofing checks are lookups of
 * (tap, MAC, address) in sets. nft's cost is in chains and jumps, not set elements.
 */
export function renderGuestFilter(input: GuestFilterInput): NftTable[] {
  const guests = [...input.guests].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const groupIds = [...new Set(guests.flatMap((g) => g.groupIds))].sort();
  const sets = new Map<string, string>();
  for (const gid of [...input.members.keys()].sort()) sets.set(gid, `members_${ident(gid)}`);
  const profileKey = (g: GuestPort) => `${[...g.groupIds].sort().join(",")}|${g.dhcpFrom ?? ""}`;
  const profiles = [...new Map(guests.map((g) => [profileKey(g), g])).values()];
  const profileOf = new Map(profiles.map((g, i) => [profileKey(g), i]));
  const markOf = (g: GuestPort) => hex(MARK_BASE + profileOf.get(profileKey(g))! + 1);
  const elements = (items: string[]) => (items.length ? [`    elements = { ${items.join(",\n      ")} }`] : []);
  // A guest whose address is not known yet may send from any (SYSTEM); the first it uses is learned.
  const unpinned = guests.filter((g) => !g.ip);
  const md = input.metadata ? guests.filter((g) => input.metadata!.has(g.instanceId)) : [];
  const mdMark = (i: number) => hex(METADATA_MARK_BASE + i + 1);

  const bridge: string[] = [];
  if (guests.length) {
    bridge.push(
      "  map profile {",
      "    type ifname : mark",
      ...elements(guests.map((g) => `${quoted(g.tap)} : ${markOf(g)}`)),
      "  }",
      "  set taps {",
      "    type ifname",
      ...elements(guests.map((g) => quoted(g.tap))),
      "  }",
      "  set own_mac {",
      "    type ifname . ether_addr",
      ...elements(guests.map((g) => `${quoted(g.tap)} . ${g.mac}`)),
      "  }",
      // 0.0.0.0: a DHCP client before it has its lease.
      "  set own_ip {",
      "    type ifname . ipv4_addr",
      ...elements(
        guests.flatMap((g) => [`${quoted(g.tap)} . 0.0.0.0`, ...(g.ip ? [`${quoted(g.tap)} . ${g.ip}`] : [])]),
      ),
      "  }",
      ...(unpinned.length
        ? [
            "  set unpinned {",
            "    type ifname",
            ...elements(unpinned.map((g) => quoted(g.tap))),
            "  }",
            // What each guest's packets say its address is: read by the node (net/lan.ts), then pinned.
            "  set learned {",
            "    type ifname . ipv4_addr",
            "    size 65536",
            "    flags dynamic,timeout",
            "    timeout 1h",
            "  }",
          ]
        : []),
      ...(md.length
        ? [
            "  map metadata_mark {",
            "    type ifname : mark",
            ...elements(md.map((g, i) => `${quoted(g.tap)} : ${mdMark(i)}`)),
            "  }",
            "  map port_mac {",
            "    type ifname : ether_addr",
            ...elements(md.map((g) => `${quoted(g.tap)} : ${input.metadata!.get(g.instanceId)!.portMac}`)),
            "  }",
          ]
        : []),
      "  chain classify {",
      "    type filter hook forward priority -200; policy accept;",
      // Nor does a guest receive any other (a tagged frame would skip the group rules).
      "    oifname @taps ether type != { ip, arp } drop",
      "    meta mark set oifname map @profile",
      "  }",
      "  chain guard {",
      "    type filter hook prerouting priority -200; policy accept;",
      "    iifname != @taps accept",
      "    iifname . ether saddr != @own_mac drop",
      // Untagged IPv4 and ARP only: a tagged (802.1Q, 802.1ad) frame never reaches the inet
      // hooks, so it would pass every group rule; IPv6 and other types have no rules here.
      "    ether type != { ip, arp } drop",
      ...(unpinned.length
        ? [
            "    iifname @unpinned arp saddr ip != { 0.0.0.0, 169.254.0.0/16 } update @learned { iifname . arp saddr ip }",
            "    iifname @unpinned ip saddr != { 0.0.0.0, 169.254.0.0/16 } update @learned { iifname . ip saddr }",
          ]
        : []),
      `    ${unpinned.length ? "iifname != @unpinned " : ""}ether type arp iifname . arp saddr ip != @own_ip drop`,
      `    ${unpinned.length ? "iifname != @unpinned " : ""}ether type ip iifname . ip saddr != @own_ip drop`,
      // Up to this host, as though sent to it: the bridge delivers a frame for a port's own MAC locally.
      ...(md.length
        ? [
            `    ip daddr ${METADATA_IP} tcp dport 80 meta mark set iifname map @metadata_mark ether daddr set iifname map @port_mac meta pkttype set host`,
          ]
        : []),
      "  }",
    );
  }

  const inet: string[] = [];
  for (const [gid, name] of sets) {
    const addrs = [...new Set(input.members.get(gid) ?? [])].sort();
    inet.push(`  set ${name} {`, "    type ipv4_addr", ...elements(addrs), "  }");
  }
  if (md.length) {
    inet.push(
      "  map metadata_source {",
      "    type mark : ipv4_addr",
      ...elements(md.map((g, i) => `${mdMark(i)} : ${input.metadata!.get(g.instanceId)!.source}`)),
      "  }",
    );
    inet.push(
      "  chain metadata {",
      "    type nat hook input priority 100; policy accept;",
      `    ip daddr ${METADATA_IP} tcp dport 80 snat ip to meta mark map @metadata_source`,
      "  }",
    );
  }
  if (guests.length) {
    inet.push("  chain ingress {", "    type filter hook forward priority 0; policy accept;");
    inet.push(
      `    meta mark vmap { ${profiles.map((g) => `${markOf(g)} : jump profile_${profileOf.get(profileKey(g))}`).join(", ")} }`,
    );
    inet.push("  }");
  }
  profiles.forEach((g, i) => {
    inet.push(
      `  chain profile_${i} {`,
      "    meta nfproto ipv6 drop",
      "    ct state established,related accept",
      "    ct state invalid drop",
      `    ${g.dhcpFrom ? `ip saddr ${g.dhcpFrom} ` : ""}udp sport 67 udp dport 68 accept`,
    );
    for (const gid of [...g.groupIds].sort()) inet.push(`    jump group_${ident(gid)}`);
    inet.push("    drop", "  }");
  });
  for (const gid of groupIds) {
    inet.push(`  chain group_${ident(gid)} {`);
    for (const r of input.rules.get(gid) ?? []) {
      const m = matchOf(r, sets);
      if (m) inet.push(`    ${m} accept`);
    }
    inet.push("  }");
  }
  // A node without guests has no tables at all.
  if (!guests.length) return [];
  return [
    { family: "bridge", name: NODE_TABLE, body: bridge.map((l) => l + "\n").join("") },
    { family: "inet", name: NODE_TABLE, body: inet.map((l) => l + "\n").join("") },
  ];
}
