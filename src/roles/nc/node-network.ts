/**
 * A node's part of its cluster's MANAGED network: the view the CC last sent is recorded
 * (so a restarted node, or one rebooted while its guests were adopted, applies it again
 * before the CC calls) and rendered into this host's segments and guest filters.
 * Changes apply one at a time, in the order they arrived.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { InvalidParameterError } from "../../common/errors";
import { writeFileAtomic } from "../../common/files";
import type { NetworkExecutor } from "../../net/executor";
import { checkView, renderNodeHost, type ClusterView } from "../../net/managed";
import type { CallContext } from "../../rpc/types";

export interface NodeNetwork {
  set(view: ClusterView, node: string, ctx: CallContext): Promise<void>;
  /** At start: the last view taken, applied again (after a crash, what the executor finds is mended). */
  restore(): Promise<void>;
}

export function createNodeNetwork(o: { executor: NetworkExecutor; file: string; tapOf: (instanceId: string) => string; privDev: string; log: Logger }): NodeNetwork {
  let chain: Promise<unknown> = Promise.resolve();

  function apply(view: ClusterView, node: string, requestId: string): Promise<void> {
    const next = chain.catch(() => undefined).then(async () => {
      // The segment kind is the cluster's (in the view); the device its VLANs ride on is this host's.
      const r = await o.executor.apply(renderNodeHost(view, node, o.tapOf, o.privDev));
      if (r.linksAdded.length || r.linksRemoved.length) o.log.info({ requestId, added: r.linksAdded, removed: r.linksRemoved, commands: r.commands }, "nc: segments changed");
    });
    chain = next;
    return next;
  }

  return {
    async set(view, node, ctx) {
      const problem = checkView(view, node);
      if (problem) throw new InvalidParameterError("view", problem);
      mkdirSync(dirname(o.file), { recursive: true, mode: 0o700 });
      writeFileAtomic(o.file, JSON.stringify({ view, node }), 0o600);
      await apply(view, node, ctx.requestId);
    },
    async restore() {
      if (!existsSync(o.file)) return;
      const { view, node } = JSON.parse(readFileSync(o.file, "utf8")) as { view: ClusterView; node: string };
      await apply(view, node, "nc-start").catch((e: Error) => o.log.error({ err: e.message }, "nc: the recorded network could not be applied; the CC sends it again"));
    },
  };
}
