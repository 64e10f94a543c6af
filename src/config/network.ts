/**
 * The network settings read as what they mean: the private subnet and public pool they
 * imply, the CC's network plan and gateway, and the checks a host makes at start before
 * it runs a mode (its tools, root, VLAN devices, the LAN bridge). What a mode does is in
 * net/modes.ts; here the settings meet it.
 */
import { createHash } from "node:crypto";
import { VNET_MODES, VNET_MODE_NAMES, hasHostNetwork, isLanMode, type VnetMode } from "../net/modes";
import { lanCidrOf } from "../net/lan";
import { requireLanBridge, requireNetworkTools, requireVlanSupport } from "../net/tools";
import type { GatewaySettings, LanSettings, NetworkPlan } from "../net/view";
import type { Settings } from "./setting-types";
import { ConfigError } from "./values";

type ModeOf = Partial<Pick<Settings, "vnetMode">>;

/** The MANAGED modes: segments made by euca, the CC their gateway. */
export const isManaged = (s: ModeOf): boolean => !!s.vnetMode && VNET_MODES[s.vnetMode].kind === "managed";
/** SYSTEM and STATIC: guests on the site's LAN bridge. */
export const isLan = (s: ModeOf): boolean => !!s.vnetMode && isLanMode(s.vnetMode);
/** Every mode but ROOTLESS: guests on bridges, the hosts' networks made by euca (root). */
export const isBridged = (s: ModeOf): boolean => !!s.vnetMode && hasHostNetwork(s.vnetMode);

/**
 * The private subnet when VNET_SUBNET is unset: loopback (127.64.0.0/16) unless guests
 * sit on real bridges (xen, or a mode with a host network), so fake instances and
 * rootless QEMU guests are told apart by the metadata service through their addresses.
 */
export function privateSubnet(s: Pick<Settings, "vnetSubnet" | "hypervisor"> & ModeOf): string {
  return s.vnetSubnet || (s.hypervisor === "xen" || isBridged(s) ? "10.128.0.0/16" : "127.64.0.0/16");
}

/**
 * The public address pool: none in a mode without public addresses (on the site's LAN
 * there is nothing to translate); when PUBLIC_IPS is unset and private addresses are
 * loopback (the laptop cloud: fake or rootless QEMU guests), a loopback pool, so instances
 * get a public address at launch and elastic addresses work, reachable from this host only.
 */
export function publicAddressRanges(s: Pick<Settings, "publicIps" | "hypervisor" | "vnetSubnet"> & ModeOf): string {
  if (s.vnetMode && !VNET_MODES[s.vnetMode].publicAddresses) return "";
  return s.publicIps || (privateSubnet(s).startsWith("127.") ? "127.65.0.2-127.65.0.254" : "");
}

/** Why elastic addresses are refused in a mode without public addresses (undefined where they work). */
export function elasticAddressesRefused(s: Pick<Settings, "vnetMode">): string | undefined {
  if (VNET_MODES[s.vnetMode].publicAddresses) return undefined;
  const modes = VNET_MODE_NAMES.filter((m) => VNET_MODES[m].kind === "managed").join(" or ");
  return `Elastic addresses need VNET_MODE ${modes}; in ${s.vnetMode} an instance's address is its address on the site's LAN`;
}

/** Whether each node answers its guests' metadata requests itself (the LAN modes: no gateway of euca's sees them). */
export const nodeAnswersMetadata = (s: Pick<Settings, "vnetMode">): boolean =>
  VNET_MODES[s.vnetMode].metadata === "node";

/** Whether guests' 169.254.169.254 is sent to the CC's host (the MANAGED modes' gateway). */
export const gatewayAnswersMetadata = (s: Pick<Settings, "vnetMode">): boolean =>
  VNET_MODES[s.vnetMode].metadata === "gateway";

/** How guests get their private addresses, as `euca run` and `euca admin network` say it. */
export function addressingOf(s: Pick<Settings, "vnetMode" | "vnetPrivInterface">): string {
  switch (VNET_MODES[s.vnetMode].addressing) {
    case "macmap":
      return `this host's DHCP on ${s.vnetPrivInterface} (VNET_MACMAP)`;
    case "site":
      return "the site's DHCP";
    case "plan":
      return "the CC's plan";
  }
}

/** How the CC cuts the private subnet, and in the LAN modes what it leases. */
export function networkPlanOf(
  s: Pick<Settings, "vnetSubnet" | "hypervisor" | "vnetAddrsPerNet" | "vnetMode" | "vnetMacMap">,
): NetworkPlan {
  const [a, b] = privateSubnet(s).split(".").map(Number);
  const m = s.vnetMode;
  const lan = isLanMode(m) ? { mode: m, macMap: s.vnetMacMap } : undefined;
  return { subnet: [a!, b!], addrsPerNet: s.vnetAddrsPerNet, ...(lan ? { lan } : {}) };
}

/** The CC's address for its nodes (their VXLAN peer, STATIC's DHCP server): VNET_LOCALIP, else --host. */
export const gatewayUnderlay = (s: Pick<Settings, "vnetLocalIp" | "host">): string => s.vnetLocalIp || s.host;

/** How segments cross hosts: VNET_SEGMENT where each group has its own, else VXLAN. */
const segmentOf = (s: Pick<Settings, "vnetMode" | "vnetSegment">): "vxlan" | "vlan" =>
  VNET_MODES[s.vnetMode].segments === "per-group" ? s.vnetSegment : "vxlan";

/** The gateway as the settings describe it (the CC's, and `euca admin network`'s reading of it). */
export function gatewaySettingsOf(s: Settings, metadata?: { ip: string; port: number }): GatewaySettings {
  const mode = s.vnetMode;
  if (!hasHostNetwork(mode)) throw new ConfigError(`VNET_MODE ${mode} has no cluster network`);
  const plan = networkPlanOf(s);
  return {
    mode,
    plan,
    underlay: gatewayUnderlay(s),
    publicDev: s.vnetPubInterface,
    metadata,
    dns: s.vnetDns || undefined,
    dhcpUser: s.vnetDhcpUser,
    segment: segmentOf(s),
    privDev: s.vnetPrivInterface,
    ...(plan.lan ? { lan: lanSettingsOf(s, plan.lan) } : {}),
  };
}

/** The LAN modes' bridge and, when the CC addresses guests from VNET_MACMAP, its DHCP on VNET_PRIVINTERFACE. */
function lanSettingsOf(s: Settings, lan: NonNullable<NetworkPlan["lan"]>): LanSettings {
  const first = lan.macMap[0];
  if (VNET_MODES[lan.mode].addressing !== "macmap" || !first) return { bridge: s.vnetBridge };
  return {
    bridge: s.vnetBridge,
    dhcp: {
      dev: s.vnetPrivInterface,
      server: gatewayUnderlay(s),
      cidr: lanCidrOf(first.ip, s.vnetNetmask),
      ...(s.vnetRouter ? { router: s.vnetRouter } : {}),
      ...(s.vnetBroadcast ? { broadcast: s.vnetBroadcast } : {}),
    },
  };
}

/** Whether segments cross this mode's hosts as 802.1Q VLANs (the kernel must have them). */
const usesVlans = (s: Pick<Settings, "vnetMode" | "vnetSegment">): boolean => segmentOf(s) === "vlan";

/**
 * What the CC's host must have to be a mode's gateway, checked at start (throws a
 * ConfigError with the fix): its tools and root, VLAN devices, VNET_MACMAP's pairs where
 * the CC addresses guests from them, and an underlay guests and nodes can reach.
 */
export function checkGatewayHost(s: Settings): void {
  const mode = s.vnetMode;
  requireNetworkTools("cc", mode, VNET_MODES[mode].gatewayTools);
  if (usesVlans(s)) requireVlanSupport("cc");
  if (VNET_MODES[mode].addressing === "macmap" && !s.vnetMacMap.length)
    throw new ConfigError(
      `VNET_MODE ${mode}: VNET_MACMAP (--vnet-mac-map) gives no MAC=IP pairs; instances would have no address to take`,
    );
  const underlay = gatewayUnderlay(s);
  if (underlay.startsWith("127."))
    throw new ConfigError(
      `VNET_MODE ${mode}: the CC's address for its nodes (VNET_LOCALIP, else --host) is ${underlay}, a loopback address; give one on the cluster's network`,
    );
}

/** What a node's host must have to take its part of a mode's network, checked at start. */
export function checkNodeHost(
  s: Pick<Settings, "vnetMode" | "vnetSegment" | "vnetBridge" | "fakeNodes">,
  simulated: boolean,
): void {
  const mode: VnetMode = s.vnetMode;
  if (!hasHostNetwork(mode)) return;
  if (simulated)
    throw new ConfigError(
      `--fake-nodes ${s.fakeNodes} cannot share one host's network in VNET_MODE ${mode}; simulate nodes with ROOTLESS`,
    );
  requireNetworkTools("nc", mode, VNET_MODES[mode].nodeTools);
  if (usesVlans(s)) requireVlanSupport("nc");
  if (isLanMode(mode)) requireLanBridge(mode, s.vnetBridge);
}

/**
 * Where guests' metadata requests are sent from a gateway: this process's metadata
 * listener (`metadataUrl`: the main port, or its own with TLS on) at its address unless
 * VNET_CLOUDIP names another, else VNET_CLOUDIP (or --host) at the EC2 port. Guests
 * cannot be sent to a loopback address, so this is never one unless euca itself listens there.
 */
export function metadataTarget(
  s: Pick<Settings, "vnetCloudIp" | "host" | "ec2Port">,
  metadataUrl: string | undefined,
): { ip: string; port: number } {
  const u = metadataUrl ? new URL(metadataUrl) : undefined;
  return { ip: s.vnetCloudIp || u?.hostname || s.host, port: u ? Number(u.port || 80) : s.ec2Port };
}

/**
 * Guests' 169.254.169.254 as a node reaches it: the CLC's metadata listener here
 * (`metadataUrl`), or the head's (WALRUS_URL) on a cluster host.
 */
export function guestMetadataService(
  s: Pick<Settings, "walrusUrl">,
  metadataUrl: string | undefined,
): { host: string; port: number } | undefined {
  const url = metadataUrl ?? (s.walrusUrl || undefined);
  if (!url) return undefined;
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
}

/**
 * dnsmasq re-reads its files as an unprivileged user after it has bound, so they live
 * outside the data directory (which is private): under /run, one directory per data dir.
 */
export function dhcpDirOf(dataDir: string): string {
  return `/run/euca/dhcp-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`;
}
