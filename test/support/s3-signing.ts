/** Hand-signed S3 requests, for what the SDKs will not send (malformed bodies, tampered chunks). */
import { createHash, createHmac } from "node:crypto";
import { signV4, formatAmzDate, signingKey, credentialScope } from "../../src/auth/sigv4";
import type { Creds } from "./s3";

export function sigV4S3Headers(
  method: string,
  url: string,
  creds: Creds,
  body: string | Buffer,
  extra: Record<string, string> = {},
): Record<string, string> {
  const u = new URL(url);
  const h = signV4({
    method,
    rawPath: u.pathname,
    query: [...u.searchParams],
    headers: { host: u.host, ...extra },
    body,
    payloadHash: extra["x-amz-content-sha256"],
    accessKeyId: creds.accessKeyId,
    secret: creds.secretAccessKey,
    region: "us-east-1",
    service: "s3",
    now: new Date(),
    doubleEncodePath: false,
  });
  delete h.host;
  return h;
}

/**
 * A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload of `chunks`; `tamper(i)` flips a byte of
 * chunk i after signing; `declaredLength` signs another x-amz-decoded-content-length.
 */
export interface ChunkedOptions {
  /** A trailing checksum, signed (…-PAYLOAD-TRAILER, x-amz-trailer-signature) unless `unsignedSeed`; `badSignature` corrupts its signature. */
  trailer?: { name: string; value: string; badSignature?: boolean };
  /** The Content-Encoding to send (aws-chunked must be in it). */
  contentEncoding?: string;
}

export function signedChunkedPut(
  url: string,
  creds: Creds,
  chunks: Buffer[],
  tamper?: number,
  declaredLength?: number,
  o: ChunkedOptions = {},
): { headers: Record<string, string>; body: Buffer } {
  const u = new URL(url);
  const now = new Date();
  const amzDate = formatAmzDate(now);
  const date = amzDate.slice(0, 8);
  const decoded = declaredLength ?? chunks.reduce((n, c) => n + c.length, 0);
  const mode = o.trailer ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" : "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
  const headers: Record<string, string> = {
    host: u.host,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": mode,
    "content-encoding": o.contentEncoding ?? "aws-chunked",
    "x-amz-decoded-content-length": String(decoded),
    ...(o.trailer ? { "x-amz-trailer": o.trailer.name } : {}),
  };
  const signed = Object.keys(headers).sort();
  const canonical = [
    "PUT",
    u.pathname,
    "",
    signed.map((k) => `${k}:${headers[k]}\n`).join(""),
    signed.join(";"),
    mode,
  ].join("\n");
  const scope = credentialScope(date, "us-east-1", "s3");
  const key = signingKey(creds.secretAccessKey, date, "us-east-1", "s3");
  const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
  const sign = (s: string) => createHmac("sha256", key).update(s).digest("hex");
  const seed = sign(["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n"));
  let prev = seed;
  const parts: Buffer[] = [];
  for (const [i, c] of [...chunks, Buffer.alloc(0)].entries()) {
    const sig = sign(["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, prev, sha(""), sha(c)].join("\n"));
    prev = sig;
    const data = Buffer.from(c);
    if (tamper === i && data.length) data[0] = data[0]! ^ 0xff;
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), data);
    if (c.length > 0 || !o.trailer) parts.push(Buffer.from("\r\n"));
  }
  if (o.trailer) {
    const line = `${o.trailer.name}:${o.trailer.value}\n`;
    let sig = sign(["AWS4-HMAC-SHA256-TRAILER", amzDate, scope, prev, sha(line)].join("\n"));
    if (o.trailer.badSignature) sig = sig.replace(/^./, (ch) => (ch === "0" ? "1" : "0"));
    parts.push(Buffer.from(`${o.trailer.name}:${o.trailer.value}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`));
  }
  const body = Buffer.concat(parts);
  delete headers.host;
  return {
    headers: {
      ...headers,
      "content-length": String(body.length),
      authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${seed}`,
    },
    body,
  };
}
