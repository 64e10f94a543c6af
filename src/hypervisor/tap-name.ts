/**
 * The name of a guest's card on the host, the same for every driver (QEMU's tap, Xen's
 * vif): the node's guest filter (net/nft/guest-filter.ts) knows a guest by it. Within
 * IFNAMSIZ (15): "eu" + the instance id's hex digits.
 */
export const tapName = (instanceId: string) => `eu${instanceId.slice(2, 15).toLowerCase()}`;
