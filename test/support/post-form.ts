/** Browser-form uploads (S3 POST Object): a SigV4-signed policy and its form, and posting it as a browser would. */
import { createHmac } from "node:crypto";
import { formatAmzDate, signingKey } from "../../src/auth/sigv4";
import type { Creds } from "./s3";

/**
 * The fields of a form whose policy allows `conditions` (plus the bucket and the
 * signing fields, and the session token when `creds` has one), signed with `creds`.
 */
export function signedPostForm(
  bucket: string,
  creds: Creds & { sessionToken?: string },
  conditions: unknown[],
  fields: Record<string, string>,
  opts: { expires?: Date; secret?: string; tokenCovered?: boolean } = {},
): Record<string, string> {
  const amzDate = formatAmzDate(new Date());
  const date = amzDate.slice(0, 8);
  const credential = `${creds.accessKeyId}/${date}/us-east-1/s3/aws4_request`;
  const token: Record<string, string> =
    creds.sessionToken !== undefined ? { "x-amz-security-token": creds.sessionToken } : {};
  const policy = Buffer.from(
    JSON.stringify({
      expiration: (opts.expires ?? new Date(Date.now() + 600_000)).toISOString(),
      conditions: [
        { bucket },
        ...conditions,
        { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
        { "x-amz-credential": credential },
        { "x-amz-date": amzDate },
        ...(opts.tokenCovered === false ? [] : Object.entries(token).map(([k, v]) => ({ [k]: v }))),
      ],
    }),
  ).toString("base64");
  const sig = createHmac("sha256", signingKey(opts.secret ?? creds.secretAccessKey, date, "us-east-1", "s3"))
    .update(policy)
    .digest("hex");
  return {
    ...fields,
    ...token,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": credential,
    "x-amz-date": amzDate,
    policy,
    "x-amz-signature": sig,
  };
}

export async function postForm(
  url: string,
  fields: Record<string, string>,
  content = "form upload body",
  filename = "hello.txt",
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([content]), filename);
  const res = await fetch(url, { method: "POST", body: form, redirect: "manual" });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export const s3ErrorCode = (x: string) => /<Code>([^<]*)<\/Code>/.exec(x)?.[1];
