/**
 * The cluster's network as one value — what the CC records, rendered by the mode's
 * renderers (./managed.ts, ./lan.ts) for the gateway and for each node. Data only.
 */
import type { IngressRule } from "./port-forwards";

import type { LanMode, NetworkMode } from "./modes";

export type { LanMode, ManagedMode, NetworkMode } from "./modes";

export interface LanSettings {
  /** The nodes' bridge on the site's LAN (VNET_BRIDGE). */
  bridge: string;
  /** STATIC: the CC's DHCP on the LAN. */
  dhcp?: {
    /** The CC's interface on the LAN (VNET_PRIVINTERFACE) and its address there, the server guests hear from. */
    dev: string;
    server: string;
    /** The LAN (from VNET_MACMAP's addresses and VNET_NETMASK). */
    cidr: string;
    router?: string;
    broadcast?: string;
  };
}

export interface SegmentView {
  vlan: number;
  cidr: string;
  gateway: string;
}

export interface InstanceView {
  instanceId: string;
  node: string;
  mac: string;
  ip: string;
  /** Its private DNS name (DHCP hands out the first label). */
  hostname: string;
  /** Its segment's tag (0 in SYSTEM and STATIC: the site's LAN). */
  vlan: number;
  groupIds: string[];
  publicIp?: string;
}

export interface ClusterView {
  mode: NetworkMode;
  /** VNET_SUBNET/VNET_NETMASK as a CIDR. */
  privateRange: string;
  segments: SegmentView[];
  instances: InstanceView[];
  rules: Record<string, IngressRule[]>;
  /** Every node's underlay address (where its VXLAN ports are). */
  nodes: Record<string, string>;
  gateway: {
    /** The CC's underlay address and, optionally, its device (VNET_PRIVINTERFACE). */
    underlay: string;
    underlayDev?: string;
    /** VNET_PUBINTERFACE: where elastic addresses are added. */
    publicDev: string;
    metadata?: { ip: string; port: number };
    dns?: string;
  };
  vxlan: { port: number; mtu: number; novlanVni: number };
  /**
   * How MANAGED's segments cross hosts: VXLAN (default; any IP network) or 802.1Q VLANs
   * on each host's `VNET_PRIVINTERFACE` (Eucalyptus' way; needs VLAN-clean switches and a
   * kernel with 802.1Q). MANAGED-NOVLAN is always VXLAN.
   */
  segment?: "vxlan" | "vlan";
  dhcp: { leaseSeconds: number; user: string; group: string };
  /** SYSTEM and STATIC: the site's LAN. */
  lan?: LanSettings;
  /**
   * Guests being live-migrated, and the node each moves to: that node gets the guest's
   * segment and port too, so its tap has a bridge and a filter before the guest arrives.
   */
  incoming?: Array<{ instanceId: string; node: string }>;
}

/** How the CC cuts its private subnet into groups' networks, and the LAN modes' leases. */
export interface NetworkPlan {
  /** e.g. [10, 128] for 10.128.0.0/16. */
  subnet: readonly [number, number];
  addrsPerNet: number;
  /**
   * SYSTEM and STATIC: guests are on the site's LAN, not in group networks. STATIC leases
   * VNET_MACMAP's pairs; SYSTEM only a MAC (the site's DHCP gives the address, learned later).
   */
  lan?: { mode: LanMode; macMap: ReadonlyArray<{ mac: string; ip: string }> };
}

/** The gateway (the CC's side of the network) as the settings describe it (config/network.ts). */
export interface GatewaySettings {
  mode: NetworkMode;
  plan: NetworkPlan;
  underlay: string;
  publicDev: string;
  metadata?: { ip: string; port: number };
  dns?: string;
  dhcpUser: string;
  segment: "vxlan" | "vlan";
  /** The CC's interface on the VLAN-clean LAN (vlan segments). */
  privDev: string;
  /** SYSTEM and STATIC: the site's LAN. */
  lan?: LanSettings;
}
