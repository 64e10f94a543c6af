/** Hand-signed EC2 Query requests, for cases real SDKs will not send (bad input, SigV2/V1). */
import { signQuery, stringToSignV2 } from "../../src/auth/sigv2";
import { signV4 } from "../../src/auth/sigv4";

export interface RawReply {
  status: number;
  body: string;
  headers: Headers;
}

export function formEncode(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", ...headers },
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** A SigV2 request with the fields in the body (as boto 2 forced-SigV2 sends it). */
export function sigV2Body(
  url: string,
  key: { accessKeyId: string; secretAccessKey: string },
  params: Record<string, string>,
  over: Record<string, string> = {},
): string {
  const u = new URL(url);
  const all: Record<string, string> = {
    AWSAccessKeyId: key.accessKeyId,
    SignatureMethod: "HmacSHA256",
    SignatureVersion: "2",
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    Version: "2014-10-01",
    ...params,
    ...over,
  };
  const pairs = Object.entries(all);
  const sig = signQuery(key.secretAccessKey, "sha256", stringToSignV2("POST", u.host, u.pathname, pairs));
  return formEncode({ ...all, Signature: sig });
}

/** Headers for a SigV4-signed POST of `body`. */
export function sigV4Headers(
  url: string,
  key: { accessKeyId: string; secretAccessKey: string },
  body: string | Uint8Array,
  now = new Date(),
): Record<string, string> {
  const u = new URL(url);
  const h = signV4({
    method: "POST",
    rawPath: u.pathname,
    headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
    accessKeyId: key.accessKeyId,
    secret: key.secretAccessKey,
    region: "eucalyptus",
    service: "ec2",
    now,
    doubleEncodePath: true,
  });
  delete h.host;
  return h;
}

export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
