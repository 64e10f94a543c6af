/**
 * The host network of the gateway (the CC) and of a node, for every mode with one: the
 * MANAGED modes' segments (./managed.ts) or SYSTEM and STATIC's LAN (./lan.ts), chosen by
 * the mode's kind in ./modes.ts. Pure.
 */
import type { HostNetwork } from "./host-network";
import { renderLanGatewayHost, renderLanNodeHost } from "./lan";
import { renderGatewayHost, renderNodeHost } from "./managed";
import { VNET_MODES, type ModeTraits } from "./modes";
import type { ClusterView } from "./view";

/** `port` names a guest's card on the host and its MAC there (hypervisor/tap-name.ts). */
export interface GuestPorts {
  tapOf: (instanceId: string) => string;
  macOf: (guestMac: string) => string;
}

/** One renderer per kind of host network: what the gateway runs and what a node runs. */
const RENDERERS: Record<
  Exclude<ModeTraits["kind"], "rootless">,
  {
    gateway(v: ClusterView): HostNetwork;
    node(v: ClusterView, node: string, port: GuestPorts, privDev?: string): HostNetwork;
  }
> = {
  managed: {
    gateway: renderGatewayHost,
    node: (v, node, port, privDev) => renderNodeHost(v, node, port.tapOf, privDev),
  },
  lan: { gateway: renderLanGatewayHost, node: (v, node, port) => renderLanNodeHost(v, node, port) },
};

const rendererOf = (v: ClusterView) => RENDERERS[VNET_MODES[v.mode].kind];

export const renderGatewayNetwork = (v: ClusterView): HostNetwork => rendererOf(v).gateway(v);

export function renderNodeNetwork(v: ClusterView, node: string, port: GuestPorts, privDev?: string): HostNetwork {
  return rendererOf(v).node(v, node, port, privDev);
}
