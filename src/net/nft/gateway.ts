/**
 * The cluster gateway's address translation, Eucalyptus' MANAGED-mode NAT in one nft
 * table: guests' requests to 169.254.169.254:80 go to the metadata service; an elastic
 * address is DNATed to its instance (from outside, and from this host itself) and the
 * instance's traffic to the outside leaves from it (SNAT by map, so an association is
 * one map element however many there are); other private traffic leaving the private
 * range is masqueraded. A guest that reaches another by its elastic address (hairpin)
 * is translated too, so the reply comes back the way the request went. Pure.
 */
import { GATEWAY_TABLE, type NftTable } from "./names";

export interface GatewayInput {
  /** The private range (VNET_SUBNET/VNET_NETMASK), e.g. "10.128.0.0/16". */
  privateRange: string;
  /** Where 169.254.169.254:80 is sent: the metadata service's address and port on this host. */
  metadata?: { ip: string; port: number };
  /** public → private, for every associated address of the cluster. */
  elastic: ReadonlyArray<{ publicIp: string; privateIp: string }>;
}

/** The conntrack zone of packets seen on the gateway's segment bridges. */
export const BRIDGED_ZONE = 0x4575;

export function renderGateway(input: GatewayInput): NftTable {
  const net = input.privateRange;
  const pairs = [...input.elastic].sort((a, b) => a.publicIp.localeCompare(b.publicIp));
  const map = (name: string, elements: string[]) => [
    `  map ${name} {`,
    "    type ipv4_addr : ipv4_addr",
    ...(elements.length ? [`    elements = { ${elements.join(", ")} }`] : []),
    "  }",
  ];
  const lines = [
    ...map(
      "elastic_in",
      pairs.map((p) => `${p.publicIp} : ${p.privateIp}`),
    ),
    ...map(
      "elastic_out",
      pairs.map((p) => `${p.privateIp} : ${p.publicIp}`),
    ),
    // br_netfilter shows this host's bridges' frames to the IP hooks as well. Tracked in a
    // zone of their own and never translated there, they reach the gateway's veth as
    // frames; past it (the veth resets their tracking) they are routed, tracked in the
    // host's zone and translated. Translating on the bridge would re-bridge a DNATed packet
    // back out the port it came by, which the bridge refuses (a hairpin between guests
    // behind one VXLAN port).
    "  chain bridged {",
    "    type filter hook prerouting priority raw; policy accept;",
    `    iifname "eucabr*" ct zone set ${BRIDGED_ZONE}`,
    "  }",
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    `    ct zone ${BRIDGED_ZONE} accept`,
    ...(input.metadata
      ? [
          `    ip saddr ${net} ip daddr 169.254.169.254 tcp dport 80 dnat to ${input.metadata.ip}:${input.metadata.port}`,
        ]
      : []),
    "    dnat to ip daddr map @elastic_in",
    "  }",
    "  chain output {",
    "    type nat hook output priority -100; policy accept;",
    "    dnat to ip daddr map @elastic_in",
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ct zone ${BRIDGED_ZONE} accept`,
    // From a guest to a guest by its elastic address: from the sender's own elastic address if it has one, else the gateway's.
    `    ct status dnat ip saddr ${net} ip daddr ${net} snat to ip saddr map @elastic_out`,
    `    ct status dnat ip saddr ${net} ip daddr ${net} masquerade`,
    `    ip saddr ${net} ip daddr != ${net} snat to ip saddr map @elastic_out`,
    `    ip saddr ${net} ip daddr != ${net} masquerade`,
    "  }",
  ];
  return { family: "ip", name: GATEWAY_TABLE, body: lines.map((l) => l + "\n").join("") };
}
