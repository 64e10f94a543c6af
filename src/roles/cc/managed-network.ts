/**
 * The CC's side of the MANAGED modes: after every change (a launch, a terminate, a group's
 * rules, an address) the cluster's view is rendered again, the gateway (this host) is made
 * to match, and each node whose part of the view changed is sent it. Changes coalesce:
 * while a round runs, the next waits and then covers everything that arrived meanwhile, so
 * a burst of a hundred authorizations costs two rounds, not a hundred. A node that did not
 * take its part is sent it again on the next poll.
 */
import type { Logger } from "pino";
import type { NetworkExecutor } from "../../net/executor";
import { renderGatewayNetwork } from "../../net/render";
import type { CallContext } from "../../rpc/types";
import { clusterViewOf, nodeViewsOf, type GatewaySettings } from "./cluster-view";
import { createHash } from "node:crypto";
import type { Clock } from "../../common/clock";
import { nodeNetworks, type CcDatabase } from "./database";
import type { ClusterNode } from "./node-monitor";
import { networkReportOf, type ClusterNetworkReport } from "./network-report";

export interface ManagedNetwork {
  /** Brings the gateway and every node in line with what the CC records now; resolves once they are. */
  sync(ctx: CallContext): Promise<void>;
  /** The network as the admin reads it (`euca admin network`). */
  report(): ClusterNetworkReport;
}

export function createManagedNetwork(o: {
  db: CcDatabase;
  gateway: () => GatewaySettings;
  executor: NetworkExecutor;
  nodes: () => ClusterNode[];
  nodeAddress: (node: string) => string | undefined;
  log: Logger;
  clock: Clock;
}): ManagedNetwork {
  // What each node took since this CC started: after a restart every node is sent its part once (a reconcile).
  const taken = new Map<string, string>();
  let round: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const view = () =>
    clusterViewOf({
      db: o.db,
      gateway: o.gateway(),
      nodeAddress: o.nodeAddress,
      nodeNames: o.nodes().map((n) => n.name),
    });

  async function once(ctx: CallContext): Promise<void> {
    const v = view();
    const r = await o.executor.apply(renderGatewayNetwork(v));
    if (
      r.linksAdded.length ||
      r.linksRemoved.length ||
      r.addressesAdded ||
      r.addressesRemoved ||
      (r.dhcp !== "unchanged" && r.dhcp !== "none")
    ) {
      o.log.info(
        { requestId: ctx.requestId, added: r.linksAdded, removed: r.linksRemoved, dhcp: r.dhcp, commands: r.commands },
        "cc: gateway network applied",
      );
    }
    const nodes = o.nodes();
    const parts = nodeViewsOf(
      v,
      nodes.map((n) => n.name),
    );
    await Promise.all(
      nodes.map(async (n) => {
        const part = parts.get(n.name)!;
        const json = JSON.stringify(part);
        if (taken.get(n.name) === json) return;
        try {
          await n.client.setNetwork({ view: part, node: n.name }, ctx);
          taken.set(n.name, json);
          const row = {
            digest: createHash("sha256").update(json).digest("hex").slice(0, 12),
            guests: part.instances.filter((i) => i.node === n.name).length,
            appliedAt: o.clock.now(),
          };
          o.db.db
            .insert(nodeNetworks)
            .values({ node: n.name, ...row })
            .onConflictDoUpdate({ target: nodeNetworks.node, set: row })
            .run();
        } catch (e) {
          o.log.warn(
            { requestId: ctx.requestId, node: n.name, err: (e as Error).message },
            "cc: the node did not take its network; sent again on the next poll",
          );
        }
      }),
    );
  }

  return {
    sync(ctx) {
      if (queued) return queued;
      const start = () => (round = once(ctx).finally(() => (round = undefined)));
      if (!round) return start();
      // One round runs: the next starts after it and sees everything recorded until then.
      queued = round
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
    report: () =>
      networkReportOf({
        db: o.db,
        gateway: o.gateway(),
        nodeAddress: o.nodeAddress,
        nodeNames: o.nodes().map((n) => n.name),
      }),
  };
}
