/**
 * Signing of role-to-role HTTP calls: SigV4 (the one signature module) with service
 * `euca-internal`, plus a nonce and the request id among the signed headers. The
 * verifier bounds the request in time (5 minutes) and refuses a nonce seen before.
 */
import { AuthError } from "../auth/errors";
import { sha256Hex } from "../auth/crypto";
import { parseAuthorizationHeader, signV4, verifySigV4Header } from "../auth/sigv4";
import type { ComponentKey, ComponentKeyLookup } from "./types";
import type { ReplayCache } from "./replay-cache";

export const INTERNAL_SERVICE = "euca-internal";
export const INTERNAL_REGION = "euca";
export const INTERNAL_MAX_SKEW_MS = 5 * 60 * 1000;
export const HEADER_NONCE = "x-euca-nonce";
export const HEADER_REQUEST_ID = "x-euca-request-id";

export interface InternalRequest {
  method: string;
  url: URL;
  body: string;
  requestId: string;
  /** SHA-256 of a streamed body (then `body` is ""). */
  payloadHash?: string;
}

export function signInternalRequest(req: InternalRequest, key: ComponentKey, now: Date, nonce: string): Record<string, string> {
  return signV4({
    method: req.method,
    rawPath: req.url.pathname,
    query: [...req.url.searchParams],
    headers: {
      host: req.url.host,
      "content-type": "application/json",
      [HEADER_NONCE]: nonce,
      [HEADER_REQUEST_ID]: req.requestId,
    },
    body: req.body,
    payloadHash: req.payloadHash,
    accessKeyId: key.id,
    secret: key.secret,
    region: INTERNAL_REGION,
    service: INTERNAL_SERVICE,
    now,
    doubleEncodePath: true,
  });
}

export interface IncomingInternal {
  method: string;
  rawPath: string;
  query: ReadonlyArray<readonly [string, string]>;
  header(name: string): string | undefined;
  body: Uint8Array;
  /**
   * For streamed bodies: the signed SHA-256 to use instead of hashing `body`; the
   * caller must then check the stream against it before committing anything.
   */
  payloadHash?: string;
}

/** Returns the id of the calling component. Throws AuthError. */
export function verifyInternalRequest(req: IncomingInternal, lookup: ComponentKeyLookup, replay: ReplayCache, now: Date): string {
  const authorization = req.header("authorization");
  if (!authorization) throw new AuthError("missing", "Internal requests must be signed");
  const parsed = parseAuthorizationHeader(authorization);
  if (parsed.service !== INTERNAL_SERVICE) throw new AuthError("bad-signature", "Not an internal request signature");
  const payloadHash = req.payloadHash ?? sha256Hex(req.body);
  if (!/^[0-9a-f]{64}$/.test(payloadHash) || req.header("x-amz-content-sha256") !== payloadHash) {
    throw new AuthError("bad-signature", "Body does not match its signed hash");
  }
  const v = verifySigV4Header(
    { method: req.method, rawPath: req.rawPath, query: req.query, header: req.header, payloadHash },
    parsed,
    {
      now,
      maxSkewMs: INTERNAL_MAX_SKEW_MS,
      doubleEncodePath: true,
      lookupSecret: lookup,
      requiredSignedHeaders: [HEADER_NONCE, HEADER_REQUEST_ID, "x-amz-content-sha256", "x-amz-date"],
    },
  );
  const nonce = req.header(HEADER_NONCE)!;
  if (!/^[0-9a-f]{32}$/.test(nonce)) throw new AuthError("incomplete", "Malformed nonce");
  if (!replay.remember(`${v.accessKeyId}/${nonce}`, v.date.getTime() + INTERNAL_MAX_SKEW_MS, now.getTime())) {
    throw new AuthError("replayed", "This request was already received");
  }
  return v.accessKeyId;
}

/**
 * Verifies an internal request from its headers alone, before any of its body is
 * read: the body's SHA-256 is taken from the signed x-amz-content-sha256, and the
 * caller must then check the body against the returned hash (bodyMatches, or while
 * it streams) before acting on it. An unsigned request is refused without reading
 * a byte of its body.
 */
export function verifyInternalHeaders(
  req: Omit<IncomingInternal, "body" | "payloadHash">, lookup: ComponentKeyLookup, replay: ReplayCache, now: Date,
): { caller: string; payloadHash: string } {
  const payloadHash = req.header("x-amz-content-sha256") ?? "";
  const caller = verifyInternalRequest({ ...req, body: new Uint8Array(0), payloadHash }, lookup, replay, now);
  return { caller, payloadHash };
}

/** Whether a body read after verifyInternalHeaders is the one that was signed. */
export function bodyMatches(body: Uint8Array, payloadHash: string): boolean {
  return sha256Hex(body) === payloadHash;
}
