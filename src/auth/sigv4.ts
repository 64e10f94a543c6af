/**
 * AWS Signature Version 4, one pure function per step (after MinIO's layout), shared
 * by the EC2 front door, S3 and the signed calls between roles.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { AuthError } from "./errors";
import { hmac, safeEqual, sha256Hex, uriEncode } from "./crypto";

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string; // yyyymmdd of the credential scope
  region: string;
  service: string;
  terminator: string; // "aws4_request"
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (spaces after commas optional). */
export function parseAuthorizationHeader(header: string): ParsedAuthorization {
  if (!header.startsWith(`${SIGV4_ALGORITHM} `)) {
    throw new AuthError("unsupported", "Unsupported Authorization scheme");
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new AuthError("incomplete", "Malformed Authorization header");
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw new AuthError("incomplete", "Authorization header requires Credential, SignedHeaders and Signature");
  }
  return { ...parseCredential(credential), signedHeaders: signedHeaders.split(";"), signature };
}

/** `AKID/20261121/region/service/aws4_request`. Region and service are taken as sent. */
export function parseCredential(credential: string): Omit<ParsedAuthorization, "signedHeaders" | "signature"> {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts.some((p) => p.length === 0) || !/^\d{8}$/.test(parts[1]!)) {
    throw new AuthError("incomplete", `Malformed credential scope '${credential}'`);
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== "aws4_request") throw new AuthError("incomplete", "Credential scope must end in aws4_request");
  return { accessKeyId, date, region, service, terminator };
}

/** Parses `20261121T041446Z`. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/**
 * Canonical URI. Non-S3 services encode each (already encoded) path segment once more;
 * S3 uses the path as sent.
 */
export function canonicalUri(rawPath: string, doubleEncode: boolean): string {
  const path = rawPath === "" ? "/" : rawPath;
  if (!doubleEncode) return path;
  return path
    .split("/")
    .map((seg) => uriEncode(seg))
    .join("/");
}

/** Canonical query string from decoded (name, value) pairs: encoded, sorted by name then value. */
export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Header values: trimmed, inner runs of spaces collapsed; repeated headers joined by commas. */
export function canonicalHeaders(
  headers: (name: string) => string | undefined,
  signedHeaders: readonly string[],
): string {
  return signedHeaders
    .map((name) => {
      const value = headers(name);
      if (value === undefined) throw new AuthError("incomplete", `Signed header '${name}' is missing`);
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
}

export interface CanonicalRequestInput {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  canonicalHeaders: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(i: CanonicalRequestInput): string {
  return [
    i.method,
    i.canonicalUri,
    i.canonicalQuery,
    i.canonicalHeaders,
    i.signedHeaders.join(";"),
    i.payloadHash,
  ].join("\n");
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonicalRequestText)].join("\n");
}

/** Derived keys by (secret, day, region, service): four HMACs a request otherwise, and a key serves a whole day. */
const derived = new Map<string, Buffer>();
const DERIVED_MAX = 4096;

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  const known = derived.get(id);
  if (known) return known;
  const kDate = hmac("sha256", `AWS4${secret}`, date);
  const kRegion = hmac("sha256", kDate, region);
  const kService = hmac("sha256", kRegion, service);
  const key = hmac("sha256", kService, "aws4_request");
  if (derived.size >= DERIVED_MAX) derived.clear();
  derived.set(id, key);
  return key;
}

export function signature(key: Buffer, stringToSignText: string): string {
  return hmac("sha256", key, stringToSignText).toString("hex");
}

/** What a verifier needs to know about an incoming request. */
export interface SignedRequest {
  method: string;
  /** The path exactly as received, still percent-encoded, without the query. */
  rawPath: string;
  /** Decoded query-string pairs (the URL's, not a form body's). */
  query: ReadonlyArray<readonly [string, string]>;
  /** Case-insensitive header lookup. */
  header(name: string): string | undefined;
  /** Hex SHA-256 of the body, or the literal the client signed (UNSIGNED-PAYLOAD…). */
  payloadHash: string;
}

export interface VerifyOptions {
  now: Date;
  /** Allowed difference between the request's date and now, in ms (EC2: 15 min). */
  maxSkewMs: number;
  doubleEncodePath: boolean;
  /** Returns the secret for an access key, or undefined when unknown. */
  lookupSecret(accessKeyId: string): string | undefined;
  /** Headers that must be among SignedHeaders (besides host). */
  requiredSignedHeaders?: readonly string[];
}

export interface VerifiedV4 {
  accessKeyId: string;
  region: string;
  service: string;
  date: Date;
  signature: string;
}

/** Verifies a request signed in the Authorization header. Throws AuthError. */
export function verifySigV4Header(req: SignedRequest, auth: ParsedAuthorization, opts: VerifyOptions): VerifiedV4 {
  const amzDate = req.header("x-amz-date") ?? "";
  const date = parseAmzDate(amzDate);
  if (!date) throw new AuthError("incomplete", "X-Amz-Date header is missing or malformed");
  if (amzDate.slice(0, 8) !== auth.date) {
    throw new AuthError("bad-signature", "Credential scope date does not match X-Amz-Date");
  }
  checkSkew(date, opts);
  const required = ["host", ...(opts.requiredSignedHeaders ?? [])];
  for (const name of required) {
    if (!auth.signedHeaders.includes(name)) throw new AuthError("incomplete", `Header '${name}' must be signed`);
  }
  const secret = opts.lookupSecret(auth.accessKeyId);
  if (secret === undefined) throw new AuthError("unknown-key", "The access key is not on record");

  const creq = canonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.rawPath, opts.doubleEncodePath),
    canonicalQuery: canonicalQuery(req.query),
    canonicalHeaders: canonicalHeaders(req.header, auth.signedHeaders),
    signedHeaders: auth.signedHeaders,
    payloadHash: req.payloadHash,
  });
  const scope = credentialScope(auth.date, auth.region, auth.service);
  const expected = signature(
    signingKey(secret, auth.date, auth.region, auth.service),
    stringToSign(amzDate, scope, creq),
  );
  if (!safeEqual(expected, auth.signature.toLowerCase())) {
    throw new AuthError("bad-signature", "The request signature does not match");
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, date, signature: expected };
}

export function checkSkew(date: Date, opts: { now: Date; maxSkewMs: number }): void {
  if (Math.abs(opts.now.getTime() - date.getTime()) > opts.maxSkewMs) {
    throw new AuthError(
      "expired",
      `Request date ${date.toISOString()} is outside the allowed clock skew of ${opts.maxSkewMs / 60000} minutes`,
    );
  }
}

export interface SignV4Input {
  method: string;
  rawPath: string;
  query?: ReadonlyArray<readonly [string, string]>;
  headers: Record<string, string>; // lower-case names; must include host
  body: string | Uint8Array;
  /** SHA-256 of the body when it is streamed separately (then `body` is ignored). */
  payloadHash?: string;
  accessKeyId: string;
  secret: string;
  region: string;
  service: string;
  now: Date;
  doubleEncodePath: boolean;
}

/** Signs a request (used by the internal RPC client and by tests). Returns headers to add. */
export function signV4(i: SignV4Input): Record<string, string> {
  const amzDate = formatAmzDate(i.now);
  const payloadHash = i.payloadHash ?? sha256Hex(i.body);
  const headers: Record<string, string> = { ...i.headers, "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash };
  const signedHeaders = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lookup = (n: string) => headers[n];
  const creq = canonicalRequest({
    method: i.method,
    canonicalUri: canonicalUri(i.rawPath, i.doubleEncodePath),
    canonicalQuery: canonicalQuery(i.query ?? []),
    canonicalHeaders: canonicalHeaders(lookup, signedHeaders),
    signedHeaders,
    payloadHash,
  });
  const date = amzDate.slice(0, 8);
  const scope = credentialScope(date, i.region, i.service);
  const sig = signature(signingKey(i.secret, date, i.region, i.service), stringToSign(amzDate, scope, creq));
  return {
    ...headers,
    authorization: `${SIGV4_ALGORITHM} Credential=${i.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${sig}`,
  };
}
