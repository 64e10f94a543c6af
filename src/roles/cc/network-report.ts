/**
 * The cluster's network as the admin reads it (`euca admin network`): the mode, the
 * segments or the LAN, each instance with its addresses and groups, each group's rules
 * and members, and what each node last took. Flat lists of plain values, so the same
 * report comes from the CC's database on its host or from the running CC through the
 * CLC's admin action.
 */
import { segmentLinks } from "../../net/managed";
import { clusterViewOf, type GatewaySettings } from "./cluster-view";
import { nodeNetworks, type CcDatabase } from "./database";

export interface ClusterNetworkReport {
  mode: string;
  privateRange: string;
  gateway: { underlay: string; publicDev: string };
  /** SYSTEM and STATIC: the LAN's bridge and, in STATIC, this CC's DHCP. */
  lan?: { bridge: string; dhcp?: { dev: string; server: string; cidr: string; router?: string } };
  segments: Array<{ bridge: string; vlan: number; cidr: string; gateway: string; guests: number }>;
  instances: Array<{
    instanceId: string;
    node: string;
    privateIp: string;
    publicIp: string;
    mac: string;
    groups: string;
  }>;
  groups: Array<{ groupId: string; rules: number; members: number }>;
  /** `applied`: a digest of the part the node last took, and when; absent: never. */
  nodes: Array<{ name: string; address: string; guests: number; applied?: string; appliedAt?: string }>;
}

export function networkReportOf(o: {
  db: CcDatabase;
  gateway: GatewaySettings;
  nodeAddress: (node: string) => string | undefined;
  nodeNames: readonly string[];
}): ClusterNetworkReport {
  const view = clusterViewOf({ db: o.db, gateway: o.gateway, nodeAddress: o.nodeAddress, nodeNames: o.nodeNames });
  const applied = new Map(
    o.db.db
      .select()
      .from(nodeNetworks)
      .all()
      .map((r) => [r.node, r]),
  );
  const groupIds = [...new Set(view.instances.flatMap((i) => i.groupIds))].sort();
  const d = view.lan?.dhcp;
  return {
    mode: view.mode,
    privateRange: view.privateRange,
    gateway: { underlay: view.gateway.underlay, publicDev: view.gateway.publicDev },
    ...(view.lan
      ? {
          lan: {
            bridge: view.lan.bridge,
            ...(d
              ? { dhcp: { dev: d.dev, server: d.server, cidr: d.cidr, ...(d.router ? { router: d.router } : {}) } }
              : {}),
          },
        }
      : {}),
    segments: view.lan
      ? []
      : view.segments.map((g) => ({
          bridge: segmentLinks(view.mode, g.vlan).bridge,
          vlan: g.vlan,
          cidr: g.cidr,
          gateway: g.gateway,
          guests: view.instances.filter((i) => i.vlan === g.vlan).length,
        })),
    instances: view.instances.map((i) => ({
      instanceId: i.instanceId,
      node: i.node,
      privateIp: i.ip,
      publicIp: i.publicIp ?? "",
      mac: i.mac,
      groups: i.groupIds.join(","),
    })),
    groups: groupIds.map((g) => ({
      groupId: g,
      rules: view.rules[g]?.length ?? 0,
      members: view.instances.filter((i) => i.groupIds.includes(g)).length,
    })),
    nodes: o.nodeNames.map((n) => {
      const a = applied.get(n);
      return {
        name: n,
        address: view.nodes[n] ?? "",
        guests: view.instances.filter((i) => i.node === n).length,
        ...(a ? { applied: a.digest, appliedAt: a.appliedAt.toISOString() } : {}),
      };
    }),
  };
}
