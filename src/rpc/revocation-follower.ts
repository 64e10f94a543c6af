/**
 * A host that joined keeps the CA's revocation list current: it asks the CLC at start and
 * every `everyMs`, installs a list only when the CA signed it, and keeps the last one when
 * the CLC does not answer (a silent CLC never un-revokes anything).
 */
import type { Logger } from "pino";
import type { Revocations } from "./host-tls";
import type { CallContext } from "./types";

export function followRevocations(o: {
  fetch: (ctx: CallContext) => Promise<{ crlPem: string }>;
  revocations: Revocations;
  everyMs: number;
  log: Logger;
}): () => void {
  let failing = false;
  const round = async () => {
    try {
      await o.revocations.install((await o.fetch({ requestId: `crl-${Date.now()}` })).crlPem);
      if (failing) o.log.info("revocation list: the CLC answers again");
      failing = false;
    } catch (e) {
      if (!failing)
        o.log.warn(
          { err: (e as Error).message },
          "revocation list: could not fetch it from the CLC; the last one stays",
        );
      failing = true;
    }
  };
  void round();
  const timer = setInterval(() => void round(), o.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
