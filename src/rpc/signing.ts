/**
 * Signing of role-to-role HTTP calls: SigV4 (the one signature module) with service
 * `euca-internal`, plus a nonce and the request id among the signed headers. The
 * verifier bounds the request in time (5 minutes) and refuses a nonce seen before.
 */
import { AuthError } from "../auth/errors";
import { sha256Hex } from "../auth/crypto";
import { credentialScope, parseAuthorizationHeader, signingKey, signV4, verifySigV4Header } from "../auth/sigv4";
import type { ChunkSigning } from "../auth/aws-chunked";
import type { ComponentKey, ComponentKeyLookup } from "./types";
import type { ReplayCache } from "./replay-cache";

export const INTERNAL_SERVICE = "euca-internal";
export const INTERNAL_REGION = "euca";
export const INTERNAL_MAX_SKEW_MS = 5 * 60 * 1000;
export const HEADER_NONCE = "x-euca-nonce";
export const HEADER_REQUEST_ID = "x-euca-request-id";
/** A streamed body is signed chunk by chunk (aws-chunked), as S3's streaming uploads are. */
export const STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

export interface InternalRequest {
  method: string;
  url: URL;
  body: string;
  requestId: string;
  /** SHA-256 of a streamed body (then `body` is ""), or STREAMING_PAYLOAD. */
  payloadHash?: string;
  /** More headers to sign and send. */
  headers?: Record<string, string>;
}

export function signInternalRequest(
  req: InternalRequest,
  key: ComponentKey,
  now: Date,
  nonce: string,
): Record<string, string> {
  return signV4({
    method: req.method,
    rawPath: req.url.pathname,
    query: [...req.url.searchParams],
    headers: {
      host: req.url.host,
      "content-type": "application/json",
      [HEADER_NONCE]: nonce,
      [HEADER_REQUEST_ID]: req.requestId,
      ...req.headers,
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

/** Signs a streamed upload: its headers, and the chunk signing its body must be encoded with (read once, as it is sent). */
export function signInternalUpload(
  req: Omit<InternalRequest, "body" | "payloadHash">,
  key: ComponentKey,
  now: Date,
  nonce: string,
): { headers: Record<string, string>; signing: ChunkSigning } {
  const headers = signInternalRequest({ ...req, body: "", payloadHash: STREAMING_PAYLOAD }, key, now, nonce);
  const amzDate = headers["x-amz-date"]!;
  const seedSignature = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;
  const date = amzDate.slice(0, 8);
  return {
    headers,
    signing: {
      signingKey: signingKey(key.secret, date, INTERNAL_REGION, INTERNAL_SERVICE),
      amzDate,
      scope: credentialScope(date, INTERNAL_REGION, INTERNAL_SERVICE),
      seedSignature,
    },
  };
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

/** Returns the id of the calling component and the request's signature. Throws AuthError. */
function verify(
  req: IncomingInternal,
  lookup: ComponentKeyLookup,
  replay: ReplayCache,
  now: Date,
): { caller: string; signature: string } {
  const authorization = req.header("authorization");
  if (!authorization) throw new AuthError("missing", "Internal requests must be signed");
  const parsed = parseAuthorizationHeader(authorization);
  if (parsed.service !== INTERNAL_SERVICE) throw new AuthError("bad-signature", "Not an internal request signature");
  const payloadHash = req.payloadHash ?? sha256Hex(req.body);
  if (
    !(/^[0-9a-f]{64}$/.test(payloadHash) || payloadHash === STREAMING_PAYLOAD) ||
    req.header("x-amz-content-sha256") !== payloadHash
  ) {
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
  return { caller: v.accessKeyId, signature: v.signature };
}

/**
 * Verifies an internal request from its headers alone, before any of its body is
 * read: the body's SHA-256 is taken from the signed x-amz-content-sha256, and the
 * caller must then check the body against the returned hash (bodyMatches), or — a
 * STREAMING_PAYLOAD body — decode it with the returned chunk signing, before acting
 * on it. An unsigned request is refused without reading a byte of its body.
 */
export function verifyInternalHeaders(
  req: Omit<IncomingInternal, "body" | "payloadHash">,
  lookup: ComponentKeyLookup,
  replay: ReplayCache,
  now: Date,
): { caller: string; payloadHash: string; signing?: ChunkSigning } {
  const payloadHash = req.header("x-amz-content-sha256") ?? "";
  const { caller, signature } = verify({ ...req, body: new Uint8Array(0), payloadHash }, lookup, replay, now);
  if (payloadHash !== STREAMING_PAYLOAD) return { caller, payloadHash };
  // A streamed body: each chunk's signature chains to this request's, with the caller's key.
  const amzDate = req.header("x-amz-date")!;
  const date = amzDate.slice(0, 8);
  const signing = {
    signingKey: signingKey(lookup(caller)!, date, INTERNAL_REGION, INTERNAL_SERVICE),
    amzDate,
    scope: credentialScope(date, INTERNAL_REGION, INTERNAL_SERVICE),
    seedSignature: signature,
  };
  return { caller, payloadHash, signing };
}

/** Whether a body read after verifyInternalHeaders is the one that was signed. */
export function bodyMatches(body: Uint8Array, payloadHash: string): boolean {
  return sha256Hex(body) === payloadHash;
}
