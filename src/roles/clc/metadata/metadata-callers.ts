/**
 * Which instances a component may ask the CLC's metadata of (roles/clc/metadata/metadata-rpc.ts):
 * in this process, any; over mutual TLS, the zone's CC or its nodes; a cluster's key, those in its zone; a node's key (registered with
 * a CC in this process), those placed on that node. Every other signer: none.
 */
import type { ClcDatabase } from "../database";
import type { CallContext } from "../../../rpc/types";
import type { CcDatabase } from "../../cc/database";
import { clusterOfKey } from "../clusters/cluster-registry";
import { nodeOfKey, placedOn } from "../../cc/node-registry";

export function metadataCallers(clc: ClcDatabase, cc?: CcDatabase) {
  return (ctx: CallContext, instance: { id: string; zone: string }): boolean => {
    // Over mutual TLS the certificate says who calls: the zone's CC, or one of its nodes
    // (the CLC does not record which node runs an instance: a node of the zone may be given any of its guests).
    if (ctx.peer) return ctx.peer.some((p) => (p.role === "cc" || p.role === "nc") && p.cluster === instance.zone);
    const caller = ctx.caller;
    if (caller === undefined) return true;
    if (clusterOfKey(clc, caller) === instance.zone) return true;
    const node = cc && nodeOfKey(cc, caller);
    return !!node && placedOn(cc, instance.id) === node;
  };
}
