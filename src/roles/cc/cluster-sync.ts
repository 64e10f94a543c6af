/**
 * The CC's rounds beside the node monitor: each poll it carries out the admin's node
 * requests, pushes every instance's network to the nodes that missed a change, records
 * the addresses nodes saw (the site's DHCP) and brings its gateway in line. At start
 * every instance's network is pushed again and, once the listeners are bound (the
 * metadata redirect names the CLC's port), the gateway reconciled with what cc.db records.
 */
import type { Logger } from "pino";
import { every } from "../../common/periodic";
import type { CallContext } from "../../rpc/types";
import type { InstanceNetwork } from "./instance-network";
import type { ManagedNetwork } from "./managed-network";
import type { NodeRequests } from "./node-requests";

export function startClusterSync(o: {
  pollMs: number;
  requests: NodeRequests;
  network: InstanceNetwork;
  service: { learnAddresses(ctx: CallContext): Promise<void> };
  managed?: ManagedNetwork;
  log: Logger;
}): { stop: () => Promise<void>; reconcile: () => void } {
  o.network.markAll();
  const stop = every(
    o.pollMs,
    async (n) => {
      o.requests.poll({ requestId: `cc-admin-${n}` });
      await o.network.push({ requestId: `cc-network-${n}` });
      await o.service.learnAddresses({ requestId: `cc-network-${n}` });
      await o.managed?.sync({ requestId: `cc-network-${n}` });
    },
    (e) => o.log.error({ err: e }, "cc: network sync failed"),
  );
  const reconcile = () => {
    const managed = o.managed;
    if (!managed) return;
    const started = Date.now();
    void managed
      .sync({ requestId: "cc-start" })
      .then(() => o.log.info({ ms: Date.now() - started }, "cc: network reconciled"))
      .catch((e: Error) =>
        o.log.error({ err: e.message }, "cc: reconciling the network failed; retried on the next poll"),
      );
  };
  return { stop, reconcile };
}
