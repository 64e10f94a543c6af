/**
 * S3 requests signed ahead for a browser (SigV2, which Walrus and S3 both take): a
 * presigned GET URL for a download, and a POST policy for a form upload straight to
 * the bucket. The secret never leaves the server; the browser gets the signatures.
 */
import { hmac, uriEncode } from "./crypto";

export interface SigningKey {
  accessKeyId: string;
  secret: string;
}

/** A GET URL for `bucket/key` under `s3Url` (path style), valid until `expires`. */
export function presignGet(s3Url: string, bucket: string, key: string, k: SigningKey, expires: Date): string {
  const path = `/${bucket}/${uriEncode(key, false)}`;
  const seconds = Math.floor(expires.getTime() / 1000);
  const signature = hmac("sha1", k.secret, `GET\n\n\n${seconds}\n${path}`).toString("base64");
  const q = new URLSearchParams({ AWSAccessKeyId: k.accessKeyId, Expires: String(seconds), Signature: signature });
  return `${s3Url.replace(/\/+$/, "")}${path}?${q}`;
}

/** The fields of a browser form that uploads one file as `keyPrefix${filename}` into `bucket`. */
export function presignPost(o: {
  bucket: string;
  keyPrefix: string;
  redirect: string;
  maxBytes: number;
  key: SigningKey;
  expires: Date;
}): Record<string, string> {
  const policy = Buffer.from(
    JSON.stringify({
      expiration: o.expires.toISOString(),
      conditions: [
        { bucket: o.bucket },
        ["starts-with", "$key", o.keyPrefix],
        { success_action_redirect: o.redirect },
        ["content-length-range", 0, o.maxBytes],
      ],
    }),
  ).toString("base64");
  return {
    key: `${o.keyPrefix}\${filename}`,
    AWSAccessKeyId: o.key.accessKeyId,
    policy,
    signature: hmac("sha1", o.key.secret, policy).toString("base64"),
    success_action_redirect: o.redirect,
  };
}
