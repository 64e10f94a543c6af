/** The signed-HTTP transport of a role client. */
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { UnavailableError } from "../common/errors";
import { signInternalRequest } from "./signing";
import { fromWireError, type WireError } from "./errors";
import type { CallContext, ComponentKey, RpcShape } from "./types";

export interface HttpClientOptions {
  baseUrl: string; // e.g. http://cc-host:8774
  role: string;
  key: ComponentKey;
  clock: Clock;
  ids: IdGenerator;
  timeoutMs?: number;
}

/** A remote call failed in transport or authentication, not in the method itself. */
export class RpcTransportError extends UnavailableError {}

export function createHttpClient<T extends RpcShape<T>>(methods: readonly (keyof T & string)[], o: HttpClientOptions): T {
  const client = {} as Record<string, (input: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const method of methods) {
    client[method] = async (input, ctx) => {
      const url = new URL(`/internal/${o.role}/${method}`, o.baseUrl);
      const body = JSON.stringify(input ?? {});
      const headers = signInternalRequest({ method: "POST", url, body, requestId: ctx.requestId }, o.key, o.clock.now(), o.ids.nonce());
      delete headers.host; // fetch sets it from the URL
      let res: Response;
      try {
        res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
      } catch (e) {
        throw new RpcTransportError(`${o.role} at ${o.baseUrl} is unreachable: ${(e as Error).message}`);
      }
      const payload = (await res.json().catch(() => ({}))) as { result?: unknown; error?: WireError & { reason?: string } };
      if (res.ok) return payload.result;
      const err = payload.error;
      if (err && res.status !== 401 && res.status !== 404 && res.status !== 500 && "fields" in err) throw fromWireError(err);
      throw new RpcTransportError(`${o.role}.${method} refused (${res.status} ${err?.kind ?? ""}${err?.reason ? `/${err.reason}` : ""}): ${err?.message ?? ""}`);
    };
  }
  return client as unknown as T;
}
