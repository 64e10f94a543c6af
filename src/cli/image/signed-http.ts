/** Minimal signed S3 and EC2 Query calls for the image tools (the SDKs are not part of the bundle). */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { XMLParser } from "fast-xml-parser";
import { signV4 } from "../../auth/sigv4";
import { uriEncode } from "../../auth/crypto";
import type { ClientEnv } from "./client-env";

export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The certificates an https endpoint is checked against: AWS_CA_BUNDLE's (the cloud CA), else the system's. */
function trustOf(env: ClientEnv): { ca?: string } {
  return env.caBundle ? { ca: readFileSync(env.caBundle, "utf8") } : {};
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  trust: { ca?: string },
  body?: { path: string; onBytes?(n: number): void } | string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, ...trust }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    if (body === undefined) req.end();
    else if (typeof body === "string") req.end(body);
    else {
      const file = createReadStream(body.path, { highWaterMark: 1024 * 1024 });
      file.on("data", (c) => body.onBytes?.((c as Buffer).length));
      file.on("error", reject);
      file.pipe(req);
    }
  });
}

function errorOf(r: Reply): RemoteError {
  const code = /<Code>([^<]*)<\/Code>/.exec(r.body)?.[1] ?? `HTTP ${r.status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(r.body)?.[1] ?? "";
  return new RemoteError(r.status, code, message);
}

export function s3Client(env: ClientEnv) {
  const base = new URL(env.s3Url);
  const trust = trustOf(env);
  const prefix = base.pathname.replace(/\/$/, "");
  function target(bucket: string, key?: string): URL {
    const path = `${prefix}/${uriEncode(bucket)}${key !== undefined ? `/${uriEncode(key, false)}` : ""}`;
    return new URL(path, base);
  }
  function signed(method: string, url: URL, extra: Record<string, string>, payloadHash: string) {
    const h = signV4({
      method,
      rawPath: url.pathname,
      headers: { host: url.host, ...extra },
      body: "",
      payloadHash,
      accessKeyId: env.accessKeyId,
      secret: env.secretKey,
      region: "us-east-1",
      service: "s3",
      now: new Date(),
      doubleEncodePath: false,
    });
    delete h.host;
    return h;
  }
  const EMPTY = createHash("sha256").update("").digest("hex");
  return {
    /** Creates the bucket; one the caller already owns is fine. */
    async ensureBucket(bucket: string): Promise<void> {
      const url = target(bucket);
      const r = await send(url, "PUT", signed("PUT", url, {}, EMPTY), trust, "");
      if (r.status === 200) return;
      const e = errorOf(r);
      if (e.code !== "BucketAlreadyOwnedByYou") throw e;
    },
    /** The object's ETag, or undefined when it does not exist. */
    async etag(bucket: string, key: string): Promise<string | undefined> {
      const url = target(bucket, key);
      const r = await send(url, "HEAD", signed("HEAD", url, {}, EMPTY), trust);
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new RemoteError(r.status, `HTTP ${r.status}`, `HEAD ${bucket}/${key}`);
      return String(r.headers.etag ?? "");
    },
    /** Removes an object (one already gone is fine). */
    async deleteObject(bucket: string, key: string): Promise<void> {
      const url = target(bucket, key);
      const r = await send(url, "DELETE", signed("DELETE", url, {}, EMPTY), trust);
      if (r.status !== 204 && r.status !== 200 && r.status !== 404) throw errorOf(r);
    },
    /** PUT a file with a canned ACL; Content-MD5 protects the bytes (the payload itself is not signed). */
    async putFile(
      bucket: string,
      key: string,
      path: string,
      acl: string,
      onBytes?: (n: number) => void,
    ): Promise<string> {
      const md5 = createHash("md5");
      for await (const c of createReadStream(path)) md5.update(c as Buffer);
      const url = target(bucket, key);
      const extra = {
        "content-md5": md5.digest("base64"),
        "x-amz-acl": acl,
        "content-length": String(statSync(path).size),
      };
      const r = await send(url, "PUT", { ...signed("PUT", url, extra, "UNSIGNED-PAYLOAD") }, trust, { path, onBytes });
      if (r.status !== 200) throw errorOf(r);
      return String(r.headers.etag ?? "");
    },
  };
}

/** One EC2 Query call; returns the parsed response body. */
export async function ec2Call(
  env: ClientEnv,
  action: string,
  params: Record<string, string>,
): Promise<Record<string, unknown>> {
  const url = new URL(env.ec2Url);
  const body = new URLSearchParams({ Action: action, Version: "2016-11-15", ...params }).toString();
  const h = signV4({
    method: "POST",
    rawPath: url.pathname,
    headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
    accessKeyId: env.accessKeyId,
    secret: env.secretKey,
    region: env.region,
    service: "ec2",
    now: new Date(),
    doubleEncodePath: true,
  });
  delete h.host;
  const r = await send(url, "POST", h, trustOf(env), body);
  if (r.status !== 200) throw errorOf(r);
  const doc = new XMLParser({ removeNSPrefix: true, parseTagValue: false }).parse(r.body) as Record<
    string,
    Record<string, unknown>
  >;
  return doc[`${action}Response`] ?? {};
}
