/**
 * S3 request authentication: SigV4 (Authorization header, presigned query), SigV2
 * (Authorization: AWS, presigned query), or anonymous. Returns who signed and how
 * the body must be checked (hash, aws-chunked signatures, nothing).
 */
import { AuthError } from "../../auth/errors";
import { hmac, safeEqual } from "../../auth/crypto";
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  credentialScope,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  signature,
  signingKey,
  stringToSign,
  verifySigV4Header,
  checkSkew,
} from "../../auth/sigv4";
import type { ChunkSigning } from "../../auth/aws-chunked";
import { S3Error } from "./s3-error";

export const S3_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 604800;

export type BodyCheck =
  { kind: "none" } | { kind: "sha256"; hex: string } | { kind: "chunked"; signing?: ChunkSigning };

export type S3Auth = {
  accessKeyId?: string;
  body: BodyCheck;
  via: "anonymous" | "v4" | "v4-presigned" | "v2" | "v2-presigned";
};

export interface S3AuthRequest {
  method: string;
  /** Path as received, percent-encoded. */
  rawPath: string;
  /** Path as the client signed it for SigV2: `/bucket/key` (without an entry prefix such as /services/Walrus). */
  v2Resources: string[];
  query: ReadonlyArray<readonly [string, string]>;
  header(name: string): string | undefined;
  /** Names of all request headers, lower case (SigV2 signs every x-amz-* header). */
  headerNames: readonly string[];
  now: Date;
  lookupSecret(accessKeyId: string): string | undefined;
}

const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

function authError(e: AuthError, presigned: boolean): S3Error {
  switch (e.reason) {
    case "unknown-key":
      return new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    case "bad-signature":
      return new S3Error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      );
    case "expired":
      return presigned
        ? new S3Error("AccessDenied", "Request has expired")
        : new S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
          );
    case "incomplete":
      return new S3Error(presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed", e.message);
    default:
      return new S3Error("InvalidArgument", e.message);
  }
}

export function authenticateS3(req: S3AuthRequest): S3Auth {
  const authorization = req.header("authorization");
  const q = new Map(req.query);
  try {
    if (authorization?.startsWith("AWS4-HMAC-SHA256")) return headerV4(req, authorization);
    if (authorization?.startsWith("AWS ")) return headerV2(req, authorization);
    if (authorization !== undefined) throw new AuthError("unsupported", "Unsupported Authorization scheme");
  } catch (e) {
    if (e instanceof AuthError) throw authError(e, false);
    throw e;
  }
  try {
    if (q.has("X-Amz-Algorithm")) return presignedV4(req, q);
    if (q.has("AWSAccessKeyId") || q.has("Signature")) return presignedV2(req, q);
  } catch (e) {
    if (e instanceof AuthError) throw authError(e, true);
    throw e;
  }
  return { body: bodyCheck(req, undefined), via: "anonymous" };
}

function bodyCheck(req: S3AuthRequest, signing: ChunkSigning | undefined): BodyCheck {
  const sha = req.header("x-amz-content-sha256");
  if (sha === STREAMING_SIGNED || sha === `${STREAMING_SIGNED}-TRAILER`) {
    if (!signing) throw new AuthError("incomplete", "Streaming signed payloads need a SigV4 Authorization header");
    return { kind: "chunked", signing: { ...signing, signedTrailer: sha.endsWith("-TRAILER") } };
  }
  if (sha === STREAMING_UNSIGNED_TRAILER) return { kind: "chunked" };
  // Content-Encoding: aws-chunked alone does not frame the body (S3 stores such a body as
  // sent): only the streaming payload hashes do, or, for a request without SigV4's hash
  // header, aws-chunked with the decoded length that framing always comes with.
  if (
    sha === undefined &&
    req.header("x-amz-decoded-content-length") !== undefined &&
    (req.header("content-encoding") ?? "").split(",").some((e) => e.trim().toLowerCase() === "aws-chunked")
  )
    return { kind: "chunked" };
  if (sha !== undefined && /^[0-9a-f]{64}$/.test(sha)) return { kind: "sha256", hex: sha };
  return { kind: "none" };
}

/** A signature is bound to its service: one made for EC2 (or anything else) is not accepted here. */
function requireS3Scope(service: string): void {
  if (service !== "s3")
    throw new AuthError(
      "incomplete",
      `The credential scope names the service '${service.slice(0, 32)}'; this endpoint belongs to 's3'`,
    );
}

function headerV4(req: S3AuthRequest, authorization: string): S3Auth {
  const parsed = parseAuthorizationHeader(authorization);
  requireS3Scope(parsed.service);
  const payloadHash = req.header("x-amz-content-sha256");
  if (payloadHash === undefined)
    throw new AuthError("incomplete", "x-amz-content-sha256 is required with Signature Version 4");
  const v = verifySigV4Header(
    { method: req.method, rawPath: req.rawPath, query: req.query, header: req.header, payloadHash },
    parsed,
    { now: req.now, maxSkewMs: S3_MAX_SKEW_MS, doubleEncodePath: false, lookupSecret: req.lookupSecret },
  );
  const secret = req.lookupSecret(parsed.accessKeyId)!;
  const signing: ChunkSigning = {
    signingKey: signingKey(secret, parsed.date, parsed.region, parsed.service),
    amzDate: req.header("x-amz-date")!,
    scope: credentialScope(parsed.date, parsed.region, parsed.service),
    seedSignature: v.signature,
  };
  return { accessKeyId: v.accessKeyId, body: bodyCheck(req, signing), via: "v4" };
}

function presignedV4(req: S3AuthRequest, q: Map<string, string>): S3Auth {
  if (q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256")
    throw new AuthError("incomplete", "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  const cred = parseCredential(q.get("X-Amz-Credential") ?? "");
  requireS3Scope(cred.service);
  const amzDate = q.get("X-Amz-Date") ?? "";
  const date = parseAmzDate(amzDate);
  const expires = Number(q.get("X-Amz-Expires"));
  const signedHeaders = (q.get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  const sig = q.get("X-Amz-Signature") ?? "";
  if (!date || amzDate.slice(0, 8) !== cred.date)
    throw new AuthError("incomplete", "X-Amz-Date is missing or does not match the credential");
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
    throw new AuthError("expired", `X-Amz-Expires must be between 1 and ${MAX_PRESIGN_SECONDS} seconds`);
  }
  if (!signedHeaders.includes("host")) throw new AuthError("incomplete", "The host header must be signed");
  if (req.now.getTime() > date.getTime() + expires * 1000) throw new AuthError("expired", "Request has expired");
  if (date.getTime() - req.now.getTime() > S3_MAX_SKEW_MS)
    throw new AuthError("expired", "Request is dated in the future");
  const secret = req.lookupSecret(cred.accessKeyId);
  if (secret === undefined) throw new AuthError("unknown-key", "unknown key");
  const payloadHash = req.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD";
  const creq = canonicalRequest({
    method: req.method,
    canonicalUri: req.rawPath,
    canonicalQuery: canonicalQuery(req.query.filter(([k]) => k !== "X-Amz-Signature")),
    canonicalHeaders: canonicalHeaders(req.header, signedHeaders),
    signedHeaders,
    payloadHash,
  });
  const expected = signature(
    signingKey(secret, cred.date, cred.region, cred.service),
    stringToSign(amzDate, credentialScope(cred.date, cred.region, cred.service), creq),
  );
  if (!safeEqual(expected, sig.toLowerCase())) throw new AuthError("bad-signature", "signature mismatch");
  return {
    accessKeyId: cred.accessKeyId,
    body: payloadHash === "UNSIGNED-PAYLOAD" ? { kind: "none" } : bodyCheck(req, undefined),
    via: "v4-presigned",
  };
}

/** Sub-resources and overrides that are part of a SigV2 canonical resource. */
const V2_SUBRESOURCES = new Set([
  "acl",
  "delete",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "partNumber",
  "policy",
  "requestPayment",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
  "tagging",
  "cors",
  "restore",
  "response-content-type",
  "response-content-language",
  "response-expires",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
]);

export function stringToSignS3V2(
  req: Pick<S3AuthRequest, "method" | "query" | "header" | "headerNames">,
  resource: string,
  dateLine: string,
): string {
  const amz = new Map<string, string>();
  for (const name of req.headerNames) {
    if (name.startsWith("x-amz-")) amz.set(name, (req.header(name) ?? "").trim());
  }
  const amzLines = [...amz.keys()]
    .sort()
    .map((k) => `${k}:${amz.get(k)}\n`)
    .join("");
  const sub = req.query
    .filter(([k]) => V2_SUBRESOURCES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === "" ? k : `${k}=${v}`))
    .join("&");
  return `${req.method}\n${req.header("content-md5") ?? ""}\n${req.header("content-type") ?? ""}\n${dateLine}\n${amzLines}${resource}${sub ? `?${sub}` : ""}`;
}

function verifyV2(req: S3AuthRequest, accessKeyId: string, sig: string, dateLine: string): void {
  const secret = req.lookupSecret(accessKeyId);
  if (secret === undefined) throw new AuthError("unknown-key", "unknown key");
  for (const resource of req.v2Resources) {
    const expected = hmac("sha1", secret, stringToSignS3V2(req, resource, dateLine)).toString("base64");
    if (safeEqual(expected, sig)) return;
  }
  throw new AuthError("bad-signature", "signature mismatch");
}

const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})$/;

/** A SigV2 date: an RFC 1123 date (as clients send) or the ISO 8601 basic form of x-amz-date; anything else is not a date. */
export function parseV2Date(value: string): Date | undefined {
  const v = value.trim();
  const d = HTTP_DATE.test(v) ? new Date(v) : parseAmzDate(v);
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

function headerV2(req: S3AuthRequest, authorization: string): S3Auth {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization.trim());
  if (!m) throw new AuthError("incomplete", "Authorization must be 'AWS AccessKeyId:Signature'");
  const amzDate = req.header("x-amz-date");
  const dateValue = amzDate ?? req.header("date");
  if (!dateValue) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  const when = parseV2Date(dateValue);
  // Unparseable, or before the epoch: S3 answers AccessDenied; only a valid date far from now is RequestTimeTooSkewed.
  if (when === undefined || when.getTime() < 0)
    throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  checkSkew(when, { now: req.now, maxSkewMs: S3_MAX_SKEW_MS });
  // With x-amz-date the Date line is whatever Date header was sent (usually empty).
  verifyV2(req, m[1]!, m[2]!, amzDate !== undefined ? (req.header("date") ?? "") : dateValue);
  return { accessKeyId: m[1]!, body: bodyCheck(req, undefined), via: "v2" };
}

function presignedV2(req: S3AuthRequest, q: Map<string, string>): S3Auth {
  const key = q.get("AWSAccessKeyId");
  const sig = q.get("Signature");
  const expires = q.get("Expires");
  if (!key || !sig || !expires || !/^\d+$/.test(expires))
    throw new AuthError("incomplete", "AWSAccessKeyId, Expires and Signature are required");
  if (req.now.getTime() > Number(expires) * 1000) throw new AuthError("expired", "Request has expired");
  verifyV2(req, key, sig, expires);
  return { accessKeyId: key, body: bodyCheck(req, undefined), via: "v2-presigned" };
}
