import type { Settings } from "./options";
import type { CloudEndpoints } from "../roles/clc/credentials";

/** The host part of a URL for a listen address (IPv6 in brackets; wildcard → loopback). */
export function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** The user-facing endpoints for the given (bound) ports. */
export function endpointsFor(s: Pick<Settings, "host" | "region">, ports: { ec2: number; s3: number }): CloudEndpoints {
  const base = `http://${urlHost(s.host)}`;
  return {
    region: s.region,
    ec2Url: `${base}:${ports.ec2}/services/Eucalyptus`,
    s3Url: `${base}:${ports.s3}`,
    walrusUrl: `${base}:${ports.ec2}/services/Walrus`,
  };
}
