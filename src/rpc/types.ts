/**
 * Role-to-role calls. Every role client interface (ClusterClient, NodeClient, …) is a
 * set of methods taking one JSON-serializable input and a call context, returning a
 * promise of a JSON-serializable output. The same interface has an in-process
 * transport (./in-process.ts) and a signed-HTTP one (./http-client.ts).
 */
import type { ComponentIdentity } from "./identity";

export interface CallContext {
  /** Travels with the call so one id traces CLC → CC → NC in the logs. */
  requestId: string;
  /** The component key that signed a call over HTTP (absent in process): who is asking, for methods that care. */
  caller?: string;
  /** Over mutual TLS: the components the caller's host certificate names. */
  peer?: ComponentIdentity[];
}

/** A role client interface `T`: every member is an RPC method. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RpcShape<T> = { [K in keyof T]: (input: any, ctx: CallContext) => Promise<unknown> };

/** Credentials issued to a component when it registers. */
export interface ComponentKey {
  id: string;
  secret: string;
}

/** Looks up the secret of a component key by id (undefined when unknown or revoked). */
export type ComponentKeyLookup = (id: string) => string | undefined;
