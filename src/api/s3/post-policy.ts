/**
 * Browser-form uploads (POST Object): the policy document's signature (SigV4 or
 * SigV2), its expiration, and its conditions over every form field.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { createHmac } from "node:crypto";
import { safeEqual } from "../../auth/crypto";
import { parseCredential, signingKey } from "../../auth/sigv4";
import { S3Error } from "./s3-error";

export interface PolicyCheck {
  accessKeyId?: string;
  /** The form's x-amz-security-token (session credentials); the policy covers it, as every field. */
  sessionToken?: string;
  sizeRange?: { min: number; max: number };
}

export type PolicyCondition =
  { op: "eq" | "starts-with"; field: string; value: string } | { op: "content-length-range"; min: number; max: number };

export interface PolicyDocument {
  expiration: Date;
  conditions: PolicyCondition[];
}

const invalid = (why: string) => new S3Error("InvalidPolicyDocument", `Invalid Policy: ${why}`);
/** What a policy may hold: more is refused, not ignored (an unknown operator must not pass as "covered"). */
const MAX_CONDITIONS = 100;
const isField = (v: unknown): v is string => typeof v === "string" && /^\$[\w.-]{1,128}$/.test(v);
const isBound = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads a policy document strictly, as S3 does: an object with an ISO `expiration` and
 * a `conditions` array, each `{"field": "value"}`, `["eq" | "starts-with", "$field",
 * "value"]` or `["content-length-range", min, max]` with whole numbers. Anything else
 * is InvalidPolicyDocument: a condition this reader does not know checks nothing, so
 * it cannot be taken as covering its field.
 */
export function readPolicyDocument(policyB64: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(policyB64, "base64").toString("utf8"));
  } catch {
    throw invalid("Invalid JSON.");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw invalid("The policy must be a JSON object.");
  const { expiration, conditions, ...rest } = doc as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw invalid(`Unexpected field ${JSON.stringify(unknown[0])}.`);
  const when = typeof expiration === "string" ? new Date(expiration) : undefined;
  if (!when || Number.isNaN(when.getTime())) throw invalid("Policy missing expiration, or it is not an ISO 8601 date.");
  if (!Array.isArray(conditions)) throw invalid("Policy missing conditions, or they are not a list.");
  if (conditions.length > MAX_CONDITIONS) throw invalid(`At most ${MAX_CONDITIONS} conditions.`);
  return { expiration: when, conditions: conditions.map(readCondition) };
}

function readCondition(c: unknown): PolicyCondition {
  if (Array.isArray(c)) {
    const op = typeof c[0] === "string" ? c[0].toLowerCase() : undefined;
    if (op === "content-length-range") {
      const [, min, max] = c;
      if (c.length !== 3 || !isBound(min) || !isBound(max) || min > max) {
        throw invalid(
          `Invalid content-length-range condition ${JSON.stringify(c)}: two whole numbers, the least first.`,
        );
      }
      return { op, min, max };
    }
    if (op !== "eq" && op !== "starts-with") {
      throw invalid(`Invalid condition operator ${JSON.stringify(c[0])}: eq, starts-with or content-length-range.`);
    }
    const [, field, value] = c;
    if (c.length !== 3 || !isField(field) || typeof value !== "string") {
      throw invalid(`Invalid ${op} condition ${JSON.stringify(c)}: ["${op}", "$field", "value"].`);
    }
    return { op, field: field.slice(1).toLowerCase(), value };
  }
  if (c && typeof c === "object") {
    const entries = Object.entries(c);
    const [name, value] = entries[0] ?? [];
    if (entries.length !== 1 || !name || typeof value !== "string") {
      throw invalid(`Invalid simple condition ${JSON.stringify(c)}: one field and its value.`);
    }
    return { op: "eq", field: name.toLowerCase(), value };
  }
  throw invalid(`Invalid condition ${JSON.stringify(c)}.`);
}

const denied = (why: string) => new S3Error("AccessDenied", `Invalid according to Policy: ${why}`);

/** Fields that are not covered by policy conditions. */
const EXEMPT = new Set(["policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"]);

export function verifyPostPolicy(
  fields: Map<string, string>,
  bucket: string,
  now: Date,
  lookupSecret: (id: string) => string | undefined,
): PolicyCheck {
  const policyB64 = fields.get("policy");
  const v4sig = fields.get("x-amz-signature");
  const v2sig = fields.get("signature");
  if (policyB64 === undefined) {
    if (v4sig !== undefined || v2sig !== undefined)
      throw new S3Error("InvalidArgument", "A signed POST needs a policy field");
    return {}; // anonymous: the bucket's ACL decides
  }
  let accessKeyId: string;
  let expected: string;
  let given: string;
  if (v4sig !== undefined) {
    if (fields.get("x-amz-algorithm") !== "AWS4-HMAC-SHA256")
      throw new S3Error("InvalidArgument", "x-amz-algorithm must be AWS4-HMAC-SHA256");
    const cred = parseCredential(fields.get("x-amz-credential") ?? "");
    const secret = lookupSecret(cred.accessKeyId);
    if (secret === undefined)
      throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    accessKeyId = cred.accessKeyId;
    expected = createHmac("sha256", signingKey(secret, cred.date, cred.region, cred.service))
      .update(policyB64)
      .digest("hex");
    given = v4sig.toLowerCase();
  } else if (v2sig !== undefined) {
    accessKeyId = fields.get("awsaccesskeyid") ?? "";
    const secret = lookupSecret(accessKeyId);
    if (secret === undefined)
      throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    expected = createHmac("sha1", secret).update(policyB64).digest("base64");
    given = v2sig;
  } else {
    throw new S3Error("AccessDenied", "A policy was given without a signature");
  }
  if (!safeEqual(expected, given))
    throw new S3Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided.",
    );

  const policy = readPolicyDocument(policyB64);
  if (policy.expiration.getTime() < now.getTime()) throw denied("Policy expired.");

  const covered = new Set<string>(["bucket"]);
  let sizeRange: PolicyCheck["sizeRange"];
  const value = (name: string) => (name === "bucket" ? bucket : (fields.get(name) ?? ""));
  for (const c of policy.conditions) {
    if (c.op === "content-length-range") {
      sizeRange = { min: c.min, max: c.max };
      continue;
    }
    covered.add(c.field);
    const ok = c.op === "eq" ? value(c.field) === c.value : value(c.field).startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ["${c.op}", "$${c.field}", ${JSON.stringify(c.value)}]`);
  }
  const extra = [...fields.keys()].filter((f) => !EXEMPT.has(f) && !f.startsWith("x-ignore-") && !covered.has(f));
  if (extra.length) throw denied(`Extra input fields: ${extra.join(", ")}`);
  return { accessKeyId, sessionToken: fields.get("x-amz-security-token"), sizeRange };
}
