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
  sizeRange?: { min: number; max: number };
}

const denied = (why: string) => new S3Error("AccessDenied", `Invalid according to Policy: ${why}`);

/** Fields that are not covered by policy conditions. */
const EXEMPT = new Set(["policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"]);

export function verifyPostPolicy(fields: Map<string, string>, bucket: string, now: Date, lookupSecret: (id: string) => string | undefined): PolicyCheck {
  const policyB64 = fields.get("policy");
  const v4sig = fields.get("x-amz-signature");
  const v2sig = fields.get("signature");
  if (policyB64 === undefined) {
    if (v4sig !== undefined || v2sig !== undefined) throw new S3Error("InvalidArgument", "A signed POST needs a policy field");
    return {}; // anonymous: the bucket's ACL decides
  }
  let accessKeyId: string;
  let expected: string;
  let given: string;
  if (v4sig !== undefined) {
    if (fields.get("x-amz-algorithm") !== "AWS4-HMAC-SHA256") throw new S3Error("InvalidArgument", "x-amz-algorithm must be AWS4-HMAC-SHA256");
    const cred = parseCredential(fields.get("x-amz-credential") ?? "");
    const secret = lookupSecret(cred.accessKeyId);
    if (secret === undefined) throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    accessKeyId = cred.accessKeyId;
    expected = createHmac("sha256", signingKey(secret, cred.date, cred.region, cred.service)).update(policyB64).digest("hex");
    given = v4sig.toLowerCase();
  } else if (v2sig !== undefined) {
    accessKeyId = fields.get("awsaccesskeyid") ?? "";
    const secret = lookupSecret(accessKeyId);
    if (secret === undefined) throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    expected = createHmac("sha1", secret).update(policyB64).digest("base64");
    given = v2sig;
  } else {
    throw new S3Error("AccessDenied", "A policy was given without a signature");
  }
  if (!safeEqual(expected, given)) throw new S3Error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");

  let policy: { expiration?: string; conditions?: unknown[] };
  try {
    policy = JSON.parse(Buffer.from(policyB64, "base64").toString("utf8"));
  } catch {
    throw new S3Error("MalformedPOSTRequest", "The policy is not valid base64-encoded JSON");
  }
  const expiration = new Date(policy.expiration ?? "");
  if (Number.isNaN(expiration.getTime())) throw new S3Error("MalformedPOSTRequest", "The policy needs an expiration");
  if (expiration.getTime() < now.getTime()) throw denied("Policy expired.");

  const covered = new Set<string>(["bucket"]);
  let sizeRange: PolicyCheck["sizeRange"];
  const value = (name: string) => (name === "bucket" ? bucket : fields.get(name) ?? "");
  for (const c of policy.conditions ?? []) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as [string, unknown, unknown];
      if (String(op).toLowerCase() === "content-length-range") {
        sizeRange = { min: Number(a), max: Number(b) };
        continue;
      }
      const name = String(a).replace(/^\$/, "").toLowerCase();
      covered.add(name);
      if (String(op).toLowerCase() === "eq" && value(name) !== String(b)) throw denied(`Policy Condition failed: ["eq", "$${name}", "${String(b)}"]`);
      if (String(op).toLowerCase() === "starts-with" && !value(name).startsWith(String(b))) throw denied(`Policy Condition failed: ["starts-with", "$${name}", "${String(b)}"]`);
    } else if (c && typeof c === "object") {
      for (const [k, v] of Object.entries(c)) {
        const name = k.toLowerCase();
        covered.add(name);
        if (value(name) !== String(v)) throw denied(`Policy Condition failed: ["eq", "$${name}", "${String(v)}"]`);
      }
    }
  }
  const extra = [...fields.keys()].filter((f) => !EXEMPT.has(f) && !f.startsWith("x-ignore-") && !covered.has(f) && !(v4sig !== undefined && f.startsWith("x-amz-") && ["x-amz-algorithm", "x-amz-credential", "x-amz-date"].includes(f) && covered.has(f)));
  if (extra.length) throw denied(`Extra input fields: ${extra.join(", ")}`);
  return { accessKeyId, sizeRange };
}
