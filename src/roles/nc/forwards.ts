/**
 * Port forwards of guests on user networking (ROOTLESS): changes to one guest's forwards
 * run one at a time, in the order they arrived, and what is in force is logged for operators.
 */
import type { Logger } from "pino";
import type { CallContext } from "../../rpc/types";
import type { ForwardResult, Hypervisor, PortForward } from "../../hypervisor/types";
import { forwardKey } from "../../net/port-forwards";

export const sameForwards = (a: readonly PortForward[], b: readonly PortForward[]) =>
  a.map(forwardKey).sort().join() === b.map(forwardKey).sort().join();

export function nodeForwards(d: { hypervisor: Hypervisor; log: Logger }) {
  const chains = new Map<string, Promise<unknown>>(); // one per guest with a change under way
  type Applied = ForwardResult & { inForce: PortForward[] };
  function applyForwards(id: string, forwards: PortForward[], ctx: CallContext): Promise<Applied> {
    const next = (chains.get(id) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async (): Promise<Applied> => {
        const { failed } = await d.hypervisor.setForwards(id, forwards);
        for (const f of failed)
          d.log.warn(
            { requestId: ctx.requestId, instanceId: id, forward: f.forward, err: f.reason },
            "nc: a forward could not be set up",
          );
        const refused = new Set(failed.map((f) => forwardKey(f.forward)));
        const inForce = forwards.filter((f) => !refused.has(forwardKey(f)));
        logForwards(id, inForce, ctx);
        return { inForce, failed };
      });
    chains.set(id, next);
    void next.catch(() => undefined).finally(() => chains.get(id) === next && chains.delete(id));
    return next;
  }

  /** For operators: where the guest is reached from the host (the EC2 user sees its addresses). */
  function logForwards(id: string, inForce: readonly PortForward[], ctx: CallContext): void {
    d.log.info(
      { requestId: ctx.requestId, instanceId: id, forwards: inForce.map(forwardKey) },
      inForce.length
        ? "nc: the guest's ports are forwarded"
        : "nc: no port is forwarded to the guest (its security groups open none to loopback)",
    );
  }

  return { apply: applyForwards, logInForce: logForwards };
}
