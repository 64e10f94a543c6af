/**
 * The in-process transport: calls the service object directly, copying input and
 * output as the HTTP transport's JSON would, so callers cannot come to depend on
 * shared mutable objects that a remote deployment would not give them.
 */
import type { CallContext, RpcShape } from "./types";

function jsonCopy<V>(v: V): V {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as V);
}

export function createInProcessClient<T extends RpcShape<T>>(methods: readonly (keyof T & string)[], service: T): T {
  const client = {} as Record<string, (input: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const method of methods) {
    client[method] = async (input, ctx) =>
      jsonCopy(
        await (service[method] as (i: unknown, c: CallContext) => Promise<unknown>)(jsonCopy(input ?? {}), {
          requestId: ctx.requestId,
        }),
      );
  }
  return client as unknown as T;
}
