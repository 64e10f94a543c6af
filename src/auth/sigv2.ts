/**
 * Query signatures versions 1 and 2 (EC2 Query API; boto 2 / euca2ools 2.x and
 * ec2-api-tools era clients). Eucalyptus 1.6.2 skipped the check for any other
 * SignatureVersion; we refuse it.
 */
import { AuthError } from "./errors";
import { hmac, safeEqual, uriEncode } from "./crypto";
import { checkSkew } from "./sigv4";

/** The parameters that carry the signature and are not part of what it signs. */
export const SIGV2_AUTH_PARAMS = [
  "AWSAccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "Timestamp",
  "Expires",
] as const;

export function stringToSignV2(
  method: string,
  host: string,
  path: string,
  params: ReadonlyArray<readonly [string, string]>,
): string {
  const query = params
    .filter(([k]) => k !== "Signature")
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  return `${method.toUpperCase()}\n${host.toLowerCase()}\n${path === "" ? "/" : path}\n${query}`;
}

/** Version 1: names sorted case-insensitively, name and value concatenated, no encoding, HMAC-SHA1. */
export function stringToSignV1(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .filter(([k]) => k !== "Signature")
    .slice()
    .sort(([a], [b]) => {
      const la = a.toLowerCase(),
        lb = b.toLowerCase();
      return la < lb ? -1 : la > lb ? 1 : 0;
    })
    .map(([k, v]) => `${k}${v}`)
    .join("");
}

export function signQuery(secret: string, algorithm: "sha1" | "sha256", text: string): string {
  return hmac(algorithm, secret, text).toString("base64");
}

export interface QueryAuthInput {
  method: string;
  /** Host header as received (may lack the port, as boto 2 sends it). */
  host: string;
  /** Port the server accepted the connection on; tried when Host lacks one. */
  localPort: number;
  /** Path as received (without the query). */
  path: string;
  /** Every request parameter (URL query and form body), decoded. */
  params: ReadonlyArray<readonly [string, string]>;
  now: Date;
  maxSkewMs: number;
  lookupSecret(accessKeyId: string): string | undefined;
}

export interface VerifiedV2 {
  accessKeyId: string;
  version: 1 | 2;
}

function single(params: QueryAuthInput["params"], name: string): string | undefined {
  return params.find(([k]) => k === name)?.[1];
}

/** Parses ISO 8601 as query clients send it (`2026-11-21T04:14:29Z`, with or without millis). */
function parseIsoTime(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Verifies SignatureVersion 1 or 2 carried in the parameters. Throws AuthError. */
export function verifyQuerySignature(i: QueryAuthInput): VerifiedV2 {
  const version = single(i.params, "SignatureVersion");
  if (version !== "1" && version !== "2") {
    throw new AuthError(
      "unsupported",
      `SignatureVersion '${version ?? ""}' is not supported; use 2 or Signature Version 4`,
    );
  }
  const accessKeyId = single(i.params, "AWSAccessKeyId");
  const sig = single(i.params, "Signature");
  if (!accessKeyId) throw new AuthError("incomplete", "AWSAccessKeyId is required");
  if (!sig) throw new AuthError("incomplete", "Signature is required");

  const timestamp = single(i.params, "Timestamp");
  const expires = single(i.params, "Expires");
  if (timestamp !== undefined && expires !== undefined) {
    throw new AuthError("incomplete", "Timestamp and Expires cannot both be given");
  }
  if (timestamp !== undefined) {
    const t = parseIsoTime(timestamp);
    if (!t) throw new AuthError("incomplete", `Timestamp '${timestamp}' is not ISO 8601`);
    checkSkew(t, i);
  } else if (expires !== undefined) {
    const e = parseIsoTime(expires);
    if (!e) throw new AuthError("incomplete", `Expires '${expires}' is not ISO 8601`);
    if (i.now.getTime() > e.getTime()) throw new AuthError("expired", `Request has expired at ${e.toISOString()}`);
  } else {
    throw new AuthError("incomplete", "Timestamp or Expires is required");
  }

  const secret = i.lookupSecret(accessKeyId);
  if (secret === undefined) throw new AuthError("unknown-key", "The access key is not on record");

  if (version === "1") {
    if (safeEqual(signQuery(secret, "sha1", stringToSignV1(i.params)), sig)) return { accessKeyId, version: 1 };
    throw new AuthError("bad-signature", "The request signature does not match");
  }

  const method = single(i.params, "SignatureMethod") ?? "HmacSHA256";
  if (method !== "HmacSHA256" && method !== "HmacSHA1") {
    throw new AuthError("unsupported", `SignatureMethod '${method}' is not supported; use HmacSHA256 or HmacSHA1`);
  }
  const algorithm = method === "HmacSHA1" ? "sha1" : "sha256";
  // Like Eucalyptus, be lenient about what the client thought the host was: as sent,
  // without the port, and with our port added.
  const hostOnly = i.host.replace(/:\d+$/, "");
  const hosts = [...new Set([i.host, hostOnly, `${hostOnly}:${i.localPort}`])];
  for (const host of hosts) {
    if (safeEqual(signQuery(secret, algorithm, stringToSignV2(i.method, host, i.path, i.params)), sig)) {
      return { accessKeyId, version: 2 };
    }
  }
  throw new AuthError("bad-signature", "The request signature does not match");
}
