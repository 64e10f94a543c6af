/**
 * The name of a guest's card on the host, the same for every driver (QEMU's tap, Xen's
 * vif): the node's guest filter (net/nft/guest-filter.ts) knows a guest by it. Within
 * IFNAMSIZ (15): "eu" + the instance id's hex digits.
 */
export const tapName = (instanceId: string) => `eu${instanceId.slice(2, 15).toLowerCase()}`;

/**
 * The MAC of a guest's card on the host side: fe + the guest's last five bytes, as
 * libvirt makes it. "fe" keeps it above every physical MAC, so a bridge never takes it
 * as its own address; and being a port's own address, a frame sent to it is delivered
 * to the host (how a node answers its guests' metadata requests, net/lan.ts).
 */
export const tapMac = (guestMac: string) => `fe${guestMac.slice(2).toLowerCase()}`;

/** Xen's netback gives every vif this MAC (so each vif port has it as a local address of its bridge). */
const XEN_VIF_MAC = "fe:ff:ff:ff:ff:ff";

/** The host-side MAC of a guest's card under a driver: Xen's fixed one, else tapMac's. */
export const portMacOf = (driver: string) => (driver === "xen" ? () => XEN_VIF_MAC : tapMac);
