/**
 * Metadata for the nodes that answer their guests' 169.254.169.254 themselves (SYSTEM and
 * STATIC, net/lan.ts): the node names the instance — it knows it by the port its request
 * came in by — and the CLC answers the path as its own metadata service would. A node may
 * ask only of the instances it runs (`may`, from the key that signed the call).
 */
import type { CallContext } from "../../../rpc/types";
import type { InstanceRecord } from "../compute/instances";
import { answerMetadata, metadataContextOf, type MetadataAnswer, type MetadataSources } from "./metadata";

export const METADATA_ROLE = "metadata";
export const METADATA_METHODS = ["answer"] as const;

export interface MetadataClient {
  /** What `path` (below the version, e.g. "meta-data/instance-id") answers for a live instance; null: nothing there. */
  answer(input: { instanceId: string; path: string }, ctx: CallContext): Promise<{ answer: MetadataAnswer | null }>;
}

export function createMetadataService(o: {
  sources: MetadataSources;
  live: (instanceId: string) => InstanceRecord | undefined;
  /** Whether the component that called (ctx.caller, ctx.peer; neither: this process) runs the instance. */
  may: (ctx: CallContext, instance: InstanceRecord) => boolean;
}): MetadataClient {
  return {
    async answer({ instanceId, path }, ctx) {
      if (typeof instanceId !== "string" || typeof path !== "string" || path.length > 1024) return { answer: null };
      const instance = o.live(instanceId);
      // Not live, or not the caller's: the same nothing, so a node cannot probe for others' ids.
      if (!instance || !o.may(ctx, instance)) return { answer: null };
      return { answer: answerMetadata(metadataContextOf(o.sources, instance), path) ?? null };
    },
  };
}
