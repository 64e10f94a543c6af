/**
 * The network a host should have, as data: what the mode renderers produce and the
 * executor (net/executor.ts) makes true. Everything here is euca's own — links named
 * `eucabr…`, `eucavx…`, `eucavl…`, `eucagw…` / `eucart…`, `eucamd`, the addresses listed, the nft tables named — and nothing
 * else on the host is read for change or touched.
 */
import type { NftTable } from "./nft/names";
import type { DhcpConfig } from "./dnsmasq";

export type LinkSpec =
  | { kind: "bridge"; name: string }
  /** An 802.1Q device on `dev` (tag `id`), a port of `master`: a segment over a VLAN-clean LAN. */
  | { kind: "vlan"; name: string; id: number; dev: string; master: string }
  /** A veth pair: `name` a port of `master`, `peer` outside it (where a gateway's address is). */
  | { kind: "veth"; name: string; peer: string; master: string; mtu?: number }
  | {
      kind: "vxlan";
      name: string;
      vni: number;
      /** This host's underlay address, and the device it is on. */
      local: string;
      dev?: string;
      port: number;
      /** The segment bridge it is a port of. */
      master: string;
      /** The other hosts of the segment (flooded to; unicast MACs are learned). */
      peers: readonly string[];
      mtu?: number;
    };

export interface AddressSpec {
  dev: string;
  /** e.g. "10.128.0.33/27", or "198.51.100.50/32" for an elastic address. */
  cidr: string;
  /** Announce with a gratuitous ARP once added (an elastic address that may have moved). */
  announce?: boolean;
}

export interface HostNetwork {
  links: LinkSpec[];
  addresses: AddressSpec[];
  tables: NftTable[];
  /** e.g. net.ipv4.ip_forward=1; the value found first is put back at teardown. */
  sysctls: Record<string, string>;
  dhcp?: DhcpConfig;
  /**
   * public → private of the translated (elastic) addresses: when one's target changes or
   * it goes, its conntrack entries are removed so no flow keeps the old translation.
   */
  translations: Record<string, string>;
}

export const OWNED_LINK = /^euca(br|vx|vl|gw|rt|md)/;

export const emptyNetwork = (): HostNetwork => ({
  links: [],
  addresses: [],
  tables: [],
  sysctls: {},
  translations: {},
});
