import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Ec2HttpRequest } from "../../src/api/ec2/auth";
import { parseFormPairs } from "../../src/server/form";

/** Copied verbatim from shared/vectors/ec2-requests (captured from real clients; see its README). */
export const VECTOR_DIR = new URL("../fixtures/ec2-requests/", import.meta.url).pathname;
export const VECTOR_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
export const VECTOR_KEY = "AKIDEXAMPLE";

export interface RawHttp {
  name: string;
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: string;
}

export function parseRawHttp(name: string, text: string): RawHttp {
  const buf = Buffer.from(text, "utf8");
  const split = buf.indexOf("\r\n\r\n");
  const head = buf.subarray(0, split).toString("utf8").split("\r\n");
  const rest = buf.subarray(split + 4);
  const [method, target] = head[0]!.split(" ") as [string, string];
  const headers = head.slice(1).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  });
  const length = Number(headers.find(([k]) => k.toLowerCase() === "content-length")?.[1] ?? rest.length);
  return { name, method, target, headers, body: rest.subarray(0, length).toString("utf8") };
}

export function loadVectors(): RawHttp[] {
  const out: RawHttp[] = [];
  for (const dir of readdirSync(VECTOR_DIR, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(VECTOR_DIR, dir.name))
      .filter((n) => n.endsWith(".http"))
      .sort()) {
      out.push(parseRawHttp(`${dir.name}/${f}`, readFileSync(join(VECTOR_DIR, dir.name, f), "utf8")));
    }
  }
  return out;
}

export function toEc2Request(raw: RawHttp): Ec2HttpRequest {
  const q = raw.target.indexOf("?");
  const rawPath = q < 0 ? raw.target : raw.target.slice(0, q);
  const query = q < 0 ? [] : parseFormPairs(raw.target.slice(q + 1));
  const body = Buffer.from(raw.body, "utf8");
  return {
    method: raw.method,
    rawPath,
    query,
    params: [...query, ...parseFormPairs(body)],
    header: (n) => {
      const values = raw.headers.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
      return values.length ? values.join(",") : undefined;
    },
    body,
    localPort: 8773,
  };
}

/** The instant the client signed the request (from X-Amz-Date or Timestamp). */
export function signedAt(raw: RawHttp): Date {
  const amz = raw.headers.find(([k]) => k.toLowerCase() === "x-amz-date")?.[1];
  if (amz) return new Date(amz.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
  const ts = parseFormPairs(raw.body).find(([k]) => k === "Timestamp")?.[1];
  if (!ts) throw new Error(`no date in ${raw.name}`);
  return new Date(ts);
}
