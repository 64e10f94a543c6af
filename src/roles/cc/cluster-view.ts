/**
 * The cluster's network as one view (net/managed.ts' ClusterView), read from what the CC
 * records: the leases (address, MAC, segment), the placements (node, groups, public
 * address) and the groups' rules. The gateway renders all of it; each node gets the part
 * it needs (`nodeViewOf`), so a node with three guests is not sent ten thousand.
 */
import type { ClusterView, GatewaySettings, InstanceView } from "../../net/view";
import { VNET_MODES } from "../../net/modes";
import type { IngressRule } from "../../net/port-forwards";
import type { CcDatabase } from "./database";
import { groupRules, leases, placements } from "./database";
import { networkOf } from "./networks";

export type { GatewaySettings } from "../../net/view";

/** VXLAN's default port; 50 bytes of its headers come off a 1500-byte underlay. */
export const VXLAN = { port: 4789, mtu: 1450, novlanVni: 1 };

/** The host name DHCP gives a guest: Eucalyptus' euca-A-B-C-D. */
export const hostnameOf = (ip: string) => `euca-${ip.replaceAll(".", "-")}`;

export function clusterViewOf(o: {
  db: CcDatabase;
  gateway: GatewaySettings;
  nodeAddress: (node: string) => string | undefined;
  nodeNames: readonly string[];
}): ClusterView {
  const { db } = o.db;
  const { plan } = o.gateway;
  const byId = new Map(
    db
      .select()
      .from(leases)
      .all()
      .map((l) => [l.instanceId, l]),
  );
  const instances: InstanceView[] = [];
  const segments = new Map<number, ReturnType<typeof networkOf>>();
  const nodes: Record<string, string> = {};
  for (const n of o.nodeNames) {
    const a = o.nodeAddress(n);
    if (a) nodes[n] = a;
  }
  for (const p of db.select().from(placements).orderBy(placements.instanceId).all()) {
    const lease = byId.get(p.instanceId);
    const underlay = o.nodeAddress(p.node);
    if (!lease || !underlay) continue; // a node the CC cannot name has no segment to join yet
    const ip = lease.privateIp ?? "";
    // On the site's LAN there are no segments.
    const net = o.gateway.lan ? undefined : networkOf(plan, lease.netIndex);
    if (net) segments.set(net.vlan, net);
    instances.push({
      instanceId: p.instanceId,
      node: p.node,
      mac: lease.mac,
      ip,
      hostname: ip ? hostnameOf(ip) : "",
      vlan: net?.vlan ?? 0,
      groupIds: JSON.parse(p.groupIds) as string[],
      ...(p.publicIp ? { publicIp: p.publicIp } : {}),
    });
  }
  const rules: Record<string, IngressRule[]> = {};
  for (const g of db.select().from(groupRules).all()) rules[g.groupId] = JSON.parse(g.rules) as IngressRule[];
  const listed = new Set(instances.map((i) => i.instanceId));
  const incoming = db
    .select({ instanceId: placements.instanceId, node: placements.migratingTo })
    .from(placements)
    .all()
    .flatMap((p) =>
      p.node && listed.has(p.instanceId) && nodes[p.node] ? [{ instanceId: p.instanceId, node: p.node }] : [],
    );
  return {
    mode: o.gateway.mode,
    privateRange: `${plan.subnet[0]}.${plan.subnet[1]}.0.0/16`,
    segments: [...segments.values()]
      .sort((a, b) => a.vlan - b.vlan)
      .map((n) => ({ vlan: n.vlan, cidr: n.cidr, gateway: n.gateway })),
    instances,
    rules,
    nodes,
    gateway: {
      underlay: o.gateway.underlay,
      publicDev: o.gateway.publicDev,
      metadata: o.gateway.metadata,
      dns: o.gateway.dns,
      ...(o.gateway.segment === "vlan" ? { underlayDev: o.gateway.privDev } : {}),
    },
    vxlan: VXLAN,
    segment: o.gateway.segment,
    dhcp: { leaseSeconds: 3600, user: o.gateway.dhcpUser, group: "nogroup" },
    ...(o.gateway.lan ? { lan: o.gateway.lan } : {}),
    ...(incoming.length ? { incoming } : {}),
  };
}

/**
 * What each node needs of the view: its guests, the segments they are on, the hosts of
 * those segments, the rules of its guests' groups and the members of the groups those
 * rules grant to (addresses only; public addresses and other nodes' rules stay at the CC).
 * Built from indexes in one pass, so a change at 10,000 instances is not nodes × instances.
 */
export function nodeViewsOf(v: ClusterView, nodeNames: readonly string[]): Map<string, ClusterView> {
  const index = <K>(key: (i: InstanceView) => K[]) => {
    const m = new Map<K, InstanceView[]>();
    for (const i of v.instances) {
      for (const k of key(i)) {
        const list = m.get(k);
        if (list) list.push(i);
        else m.set(k, [i]);
      }
    }
    return m;
  };
  const byNode = index((i) => [i.node]);
  // A guest on its way to a node is that node's guest too (as if it ran there already).
  for (const m of v.incoming ?? []) {
    const i = v.instances.find((x) => x.instanceId === m.instanceId);
    if (i) byNode.set(m.node, [...(byNode.get(m.node) ?? []), { ...i, node: m.node }]);
  }
  const byVlan = index((i) => [i.vlan]);
  const byGroup = index((i) => i.groupIds);
  const out = new Map<string, ClusterView>();
  for (const node of nodeNames) {
    const mine = byNode.get(node) ?? [];
    const vlans = new Set(mine.map((i) => i.vlan));
    const groups = new Set(mine.flatMap((i) => i.groupIds));
    const rules = Object.fromEntries([...groups].filter((g) => v.rules[g]).map((g) => [g, v.rules[g]!]));
    const granted = new Set(
      Object.values(rules)
        .flat()
        .map((r) => r.sourceGroupId)
        .filter((g): g is string => !!g),
    );
    const picked = new Set<InstanceView>(mine);
    // NOVLAN: one segment, so every guest shares this node's.
    // On the site's LAN there is no segment to share: its guests and the members its rules grant to.
    if (v.lan) {
      /* nothing more */
    } else if (VNET_MODES[v.mode].segments === "one" && mine.length) for (const i of v.instances) picked.add(i);
    else for (const vlan of vlans) for (const i of byVlan.get(vlan) ?? []) picked.add(i);
    for (const g of granted) for (const i of byGroup.get(g) ?? []) picked.add(i);
    // The node's own copy of an arriving guest stands in for the one that names its source.
    const arriving = new Set(mine.filter((i) => !v.instances.includes(i)).map((i) => i.instanceId));
    const instances = [
      ...v.instances.filter((i) => picked.has(i) && !arriving.has(i.instanceId)),
      ...mine.filter((i) => arriving.has(i.instanceId)),
    ].map(({ publicIp: _p, ...i }) => i);
    const nodes = Object.fromEntries(
      [...new Set([node, ...instances.map((i) => i.node)])].filter((n) => v.nodes[n]).map((n) => [n, v.nodes[n]!]),
    );
    const { incoming: _incoming, ...rest } = v;
    out.set(node, { ...rest, segments: v.segments.filter((s) => vlans.has(s.vlan)), instances, rules, nodes });
  }
  return out;
}
