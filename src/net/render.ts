/**
 * The host network of the gateway (the CC) and of a node, for every mode with one: the
 * MANAGED modes' segments (./managed.ts) or SYSTEM and STATIC's LAN (./lan.ts). Pure.
 */
import type { HostNetwork } from "./host-network";
import { renderLanGatewayHost, renderLanNodeHost } from "./lan";
import { renderGatewayHost, renderNodeHost } from "./managed";
import type { ClusterView, LanMode, NetworkMode } from "./view";

export const isLanMode = (m: NetworkMode): m is LanMode => m === "SYSTEM" || m === "STATIC";

export const renderGatewayNetwork = (v: ClusterView): HostNetwork =>
  isLanMode(v.mode) ? renderLanGatewayHost(v) : renderGatewayHost(v);

/** `port` names a guest's card on the host and its MAC there (hypervisor/tap-name.ts). */
export function renderNodeNetwork(
  v: ClusterView,
  node: string,
  port: { tapOf: (instanceId: string) => string; macOf: (guestMac: string) => string },
  privDev?: string,
): HostNetwork {
  return isLanMode(v.mode) ? renderLanNodeHost(v, node, port) : renderNodeHost(v, node, port.tapOf, privDev);
}
