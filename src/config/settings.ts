/**
 * Every setting of `euca run` / `euca init`, declared once: its flag, its EUCA_*
 * environment variable, its config-file key, its default and its help. Precedence:
 * flags > EUCA_* environment > config file > defaults (docs/configuration.md).
 */
export * from "./setting-types";
export { OPTIONS, OPTION_KEYS, FILE_KEYS, parseRoles } from "./options";
export { ConfigError, parseIpRanges, parseMacMap } from "./values";
import type { Settings } from "./setting-types";

/**
 * The private subnet when VNET_SUBNET is unset: loopback (127.64.0.0/16) unless guests
 * sit on real bridges (xen, or the MANAGED modes), so fake instances and rootless QEMU
 * guests are told apart by the metadata service through their addresses.
 */
export function privateSubnet(
  s: Pick<Settings, "vnetSubnet" | "hypervisor"> & Partial<Pick<Settings, "vnetMode">>,
): string {
  return s.vnetSubnet || (s.hypervisor === "xen" || isBridged(s) ? "10.128.0.0/16" : "127.64.0.0/16");
}

export const isManaged = (s: Partial<Pick<Settings, "vnetMode">>): boolean =>
  s.vnetMode === "MANAGED" || s.vnetMode === "MANAGED-NOVLAN";
/** SYSTEM and STATIC: guests on the site's LAN bridge. */
export const isLan = (s: Partial<Pick<Settings, "vnetMode">>): boolean =>
  s.vnetMode === "SYSTEM" || s.vnetMode === "STATIC";
/** Every mode but ROOTLESS: guests on bridges, the hosts' networks made by euca (root). */
export const isBridged = (s: Partial<Pick<Settings, "vnetMode">>): boolean => isManaged(s) || isLan(s);

/**
 * The public address pool when PUBLIC_IPS is unset: with loopback private addresses (the
 * laptop cloud: fake or rootless QEMU guests), a loopback pool, so instances get a public
 * address at launch and elastic addresses work, reachable from this host only.
 */
export function publicAddressRanges(
  s: Pick<Settings, "publicIps" | "hypervisor" | "vnetSubnet"> & Partial<Pick<Settings, "vnetMode">>,
): string {
  return s.publicIps || (privateSubnet(s).startsWith("127.") ? "127.65.0.2-127.65.0.254" : "");
}
