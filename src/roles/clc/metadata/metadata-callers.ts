/**
 * Which instances a component may ask the CLC's metadata of (roles/clc/metadata/metadata-rpc.ts):
 * in this process, any; a cluster's key, those in its zone; a node's key (registered with
 * a CC in this process), those placed on that node. Every other signer: none.
 */
import type { ClcDatabase } from "../database";
import type { CcDatabase } from "../../cc/database";
import { clusterOfKey } from "../clusters/cluster-registry";
import { nodeOfKey, placedOn } from "../../cc/node-registry";

export function metadataCallers(clc: ClcDatabase, cc?: CcDatabase) {
  return (caller: string | undefined, instance: { id: string; zone: string }): boolean => {
    if (caller === undefined) return true;
    if (clusterOfKey(clc, caller) === instance.zone) return true;
    const node = cc && nodeOfKey(cc, caller);
    return !!node && placedOn(cc, instance.id) === node;
  };
}
