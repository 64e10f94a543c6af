/** The programs a host network runs, checked at start so a missing one is a clear error, not a failed launch. */
import { existsSync } from "node:fs";
import { onPath } from "../common/on-path";
import { ConfigError } from "../config/values";

/** Throws a ConfigError naming what is missing (root, or a program and its Debian package); the mode's tools are in ./modes.ts. */
export function requireNetworkTools(role: "cc" | "nc", mode: string, tools: readonly string[]): void {
  if (!tools.length) return; // nothing to run on this host (ROOTLESS; SYSTEM's CC)
  if (process.getuid?.() !== 0)
    throw new ConfigError(
      `VNET_MODE ${mode} needs root on the ${role} host: it makes bridges, VXLAN links, nftables rules or DHCP`,
    );
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length)
    throw new ConfigError(
      `VNET_MODE ${mode} needs ${missing.join(", ")} on the ${role} host (Debian: apt-get install iproute2 nftables procps dnsmasq-base conntrack iputils-arping)`,
    );
}

/** 802.1Q segments need the kernel's VLAN devices (built in or the 8021q module loaded: /proc/net/vlan). */
export function requireVlanSupport(role: "cc" | "nc"): void {
  if (!existsSync("/proc/net/vlan/config")) {
    throw new ConfigError(
      `--vnet-segment vlan: this ${role} host's kernel has no 802.1Q VLAN devices (no /proc/net/vlan; load 8021q, or use --vnet-segment vxlan)`,
    );
  }
}

/** SYSTEM and STATIC put guests on the site's LAN bridge, which the site makes: it must be there, and a bridge. */
export function requireLanBridge(mode: string, bridge: string): void {
  if (!existsSync(`/sys/class/net/${bridge}/bridge`)) {
    throw new ConfigError(
      `VNET_MODE ${mode}: this node has no bridge ${bridge} (VNET_BRIDGE); make the LAN bridge (e.g. br0 holding eth0 and the node's address) or name yours with --vnet-bridge`,
    );
  }
}
