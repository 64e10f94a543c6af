/**
 * Eucalyptus' VNET_MODEs, one entry each. Every question "what does this mode do?" —
 * does it make host networks, who is the guests' gateway, where their addresses come
 * from, how segments are cut, what each host must run — is answered here, so a new mode
 * is one entry (and, for a new kind, one renderer in ./render.ts). docs/networking.md.
 */

/** On a node: links, bridges' FDB, nftables and sysctls. */
const NODE_TOOLS = ["ip", "bridge", "nft", "sysctl"] as const;
/** On a MANAGED gateway, also DHCP, conntrack (elastic addresses that move) and arping (announcing them). */
const GATEWAY_TOOLS = [...NODE_TOOLS, "dnsmasq", "conntrack", "arping"] as const;

export interface ModeTraits {
  /**
   * `rootless`: QEMU's user networking in the guest's process, groups as forwarded ports
   * (the laptop cloud: no host network, no root). `managed`: segments made by euca, the CC
   * their gateway (nftables, VXLAN or 802.1Q). `lan`: guests on the site's LAN bridge, its
   * router their gateway, filtered on their node.
   */
  kind: "rootless" | "managed" | "lan";
  /**
   * How security groups' networks are cut: `per-group` (a segment, and a VLAN tag, for each
   * group), `one` (one segment, groups kept apart by filtering) or `none` (no segments).
   */
  segments: "per-group" | "one" | "none";
  /**
   * Where a guest's private address comes from: the CC's plan (`plan`, handed out by the
   * CC's DHCP or QEMU's), VNET_MACMAP (`macmap`: the CC's DHCP on the LAN), or the site's
   * DHCP (`site`: learned from the guest's traffic, unknown until then).
   */
  addressing: "plan" | "macmap" | "site";
  /** Whether guests get public (elastic) addresses the cloud translates; on the site's LAN there is nothing to translate. */
  publicAddresses: boolean;
  /** Who answers guests' metadata requests: the CC's gateway (redirected to the CLC), the node, or QEMU's forward. */
  metadata: "gateway" | "node" | "qemu";
  /** Programs the CC's host runs in this mode (root is needed when there are any). */
  gatewayTools: readonly string[];
  /** Programs each node runs in this mode. */
  nodeTools: readonly string[];
}

export const VNET_MODES = {
  ROOTLESS: {
    kind: "rootless",
    segments: "none",
    addressing: "plan",
    publicAddresses: true,
    metadata: "qemu",
    gatewayTools: [],
    nodeTools: [],
  },
  MANAGED: {
    kind: "managed",
    segments: "per-group",
    addressing: "plan",
    publicAddresses: true,
    metadata: "gateway",
    gatewayTools: GATEWAY_TOOLS,
    nodeTools: NODE_TOOLS,
  },
  "MANAGED-NOVLAN": {
    kind: "managed",
    segments: "one",
    addressing: "plan",
    publicAddresses: true,
    metadata: "gateway",
    gatewayTools: GATEWAY_TOOLS,
    nodeTools: NODE_TOOLS,
  },
  SYSTEM: {
    kind: "lan",
    segments: "none",
    addressing: "site",
    publicAddresses: false,
    metadata: "node",
    gatewayTools: [], // the site's router and DHCP serve the guests: nothing runs on the CC's host
    nodeTools: NODE_TOOLS,
  },
  STATIC: {
    kind: "lan",
    segments: "none",
    addressing: "macmap",
    publicAddresses: false,
    metadata: "node",
    gatewayTools: ["dnsmasq"], // the CC only answers DHCP from VNET_MACMAP
    nodeTools: NODE_TOOLS,
  },
} as const satisfies Record<string, ModeTraits>;

export type VnetMode = keyof typeof VNET_MODES;
export const VNET_MODE_NAMES = Object.keys(VNET_MODES) as VnetMode[];

type ModesOf<K extends ModeTraits["kind"]> = {
  [M in VnetMode]: (typeof VNET_MODES)[M]["kind"] extends K ? M : never;
}[VnetMode];
/** The modes whose segments euca makes, the CC their gateway. */
export type ManagedMode = ModesOf<"managed">;
/** The modes whose guests sit on the site's LAN. */
export type LanMode = ModesOf<"lan">;
/** Every mode with a host network (all but ROOTLESS). */
export type NetworkMode = ManagedMode | LanMode;

export const isVnetMode = (m: unknown): m is VnetMode => typeof m === "string" && Object.hasOwn(VNET_MODES, m);
export const isLanMode = (m: VnetMode): m is LanMode => VNET_MODES[m].kind === "lan";
/** Guests on bridges, the hosts' networks made by euca (root): every kind but rootless. */
export const hasHostNetwork = (m: VnetMode): m is NetworkMode => VNET_MODES[m].kind !== "rootless";
