/**
 * Bucket CORS: the rules S3 accepts, and which rule answers a request from a browser
 * (the first that matches origin, method and every requested header, as S3 picks).
 */
import { StorageError } from "../../common/errors";

import { CORS_METHODS, type CorsMethod, type CorsRule } from "./records";

const MAX_RULES = 100;

/** What a matching rule lets the browser do, as response headers. */
export interface CorsGrant {
  allowOrigin: string;
  /** Credentials may be sent only to a named origin, never to "*". */
  allowCredentials: boolean;
  allowMethods: string;
  allowHeaders?: string;
  exposeHeaders?: string;
  maxAgeSeconds?: number;
}

const oneWildcard = (s: string) => s.split("*").length <= 2;

export function checkCorsRules(rules: readonly CorsRule[]): CorsRule[] {
  if (rules.length === 0)
    throw new StorageError(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema (no CORSRule)",
    );
  if (rules.length > MAX_RULES)
    throw new StorageError(
      "InvalidRequest",
      `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`,
    );
  for (const r of rules) {
    if (r.allowedOrigins.length === 0 || r.allowedMethods.length === 0) {
      throw new StorageError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema (a CORSRule needs AllowedOrigin and AllowedMethod)",
      );
    }
    for (const m of r.allowedMethods) {
      if (!(CORS_METHODS as readonly string[]).includes(m))
        throw new StorageError(
          "InvalidRequest",
          `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`,
        );
    }
    for (const o of r.allowedOrigins) {
      if (!oneWildcard(o))
        throw new StorageError("InvalidRequest", `AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    for (const h of r.allowedHeaders) {
      if (!oneWildcard(h))
        throw new StorageError("InvalidRequest", `AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    if (r.id !== undefined && r.id.length > 255)
      throw new StorageError("InvalidArgument", "A CORS rule ID may be at most 255 characters");
  }
  return [...rules];
}

/** A CORS pattern holds at most one `*` (checked when stored): prefix and suffix around it. */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  const star = p.indexOf("*");
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/**
 * The first rule that allows `origin` to send `method` with `requestHeaders` (a
 * preflight's Access-Control-Request-Headers; none for an actual request).
 */
export function matchCors(
  rules: readonly CorsRule[] | undefined,
  origin: string,
  method: string,
  requestHeaders: readonly string[] = [],
): CorsGrant | undefined {
  for (const r of rules ?? []) {
    const origins = r.allowedOrigins.filter((o) => matches(o, origin, false));
    if (origins.length === 0 || !r.allowedMethods.includes(method as CorsMethod)) continue;
    if (!requestHeaders.every((h) => r.allowedHeaders.some((a) => matches(a, h, true)))) continue;
    const star = origins.includes("*");
    return {
      allowOrigin: star ? "*" : origin,
      allowCredentials: !star,
      allowMethods: r.allowedMethods.join(", "),
      allowHeaders: requestHeaders.length ? requestHeaders.join(", ") : undefined,
      exposeHeaders: r.exposeHeaders.length ? r.exposeHeaders.join(", ") : undefined,
      maxAgeSeconds: r.maxAgeSeconds,
    };
  }
  return undefined;
}
