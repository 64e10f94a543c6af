import { InvalidParameterError, UnavailableError } from "../../common/errors";
import { HypervisorError } from "../../hypervisor/types";

/**
 * Driver errors callers can act on become domain errors: a hypervisor that does not
 * answer (down, or the host asleep) makes the node unavailable, not an internal fault;
 * a request no driver may carry out is the caller's error.
 */
export function domainErrorsOf<T extends object>(svc: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, fn] of Object.entries(svc)) {
    out[k] =
      typeof fn !== "function"
        ? fn
        : async (...args: unknown[]) => {
            try {
              return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
            } catch (e) {
              if (e instanceof HypervisorError && e.kind === "unreachable")
                throw new UnavailableError(`node: ${e.message}`);
              if (e instanceof HypervisorError && e.kind === "invalid")
                throw new InvalidParameterError("forwards", e.message);
              throw e;
            }
          };
  }
  return out as T;
}
