import { readFileSync } from "node:fs";
import type { Settings } from "./settings";
import { dataDirLayout } from "../common/data-dir";
import { writeFileAtomic } from "../common/files";

/** The user-facing endpoints, as credentials name them. */
export interface CloudEndpoints {
  region: string;
  ec2Url: string;
  s3Url: string;
  walrusUrl: string;
  /** Guests' metadata service, plain HTTP on the main port (169.254.169.254 is sent here). */
  metadataUrl?: string;
  /** The EC2 and S3 endpoints speak HTTPS with a certificate from the cloud CA: clients trust cloud-cert.pem. */
  cloudCaTls?: boolean;
  /** The head's internal listener for other hosts (joins, Walrus and metadata for components), where it is open. */
  internalUrl?: string;
}

/** STS and IAM live beside EC2, at Eucalyptus' paths, on the same port. */
export function tokensUrl(e: Pick<CloudEndpoints, "ec2Url">): string {
  return `${new URL(e.ec2Url).origin}/services/Tokens`;
}
export function euareUrl(e: Pick<CloudEndpoints, "ec2Url">): string {
  return `${new URL(e.ec2Url).origin}/services/Euare`;
}

/** The host part of a URL for a listen address (IPv6 in brackets; wildcard → loopback). */
export function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/**
 * Whether this host's user endpoints (EC2, STS/IAM, S3) speak HTTPS: where the CLC or
 * Walrus runs, with TLS on, or auto and an address other hosts can reach.
 */
export function userTls(s: Pick<Settings, "tls" | "host" | "roles">): boolean {
  if (!s.roles.includes("clc") && !s.roles.includes("walrus")) return false;
  return s.tls === "on" || (s.tls === "auto" && !LOOPBACK.test(s.host));
}

/** The user-facing endpoints for the given (bound) ports. */
export function endpointsFor(
  s: Pick<Settings, "host" | "region" | "tls" | "roles" | "webCert">,
  ports: { ec2: number; s3: number },
): CloudEndpoints {
  const host = urlHost(s.host);
  const tls = userTls(s);
  const base = `${tls ? "https" : "http"}://${host}`;
  return {
    region: s.region,
    ec2Url: `${base}:${ports.ec2}/services/Eucalyptus`,
    s3Url: `${base}:${ports.s3}`,
    walrusUrl: `${base}:${ports.ec2}/services/Walrus`,
    metadataUrl: `http://${host}:${ports.ec2}`,
    ...(tls && !s.webCert ? { cloudCaTls: true } : {}),
  };
}

/** `euca run` records the endpoints it serves, so commands run beside it write credentials that name them. */
export function recordServedEndpoints(dataDir: string, e: CloudEndpoints): void {
  writeFileAtomic(dataDirLayout(dataDir).servedEndpoints, JSON.stringify(e, null, 2) + "\n", 0o600);
}

function readServedEndpoints(dataDir: string): CloudEndpoints | undefined {
  try {
    const e = JSON.parse(readFileSync(dataDirLayout(dataDir).servedEndpoints, "utf8")) as Partial<CloudEndpoints>;
    if (
      typeof e.ec2Url === "string" &&
      typeof e.s3Url === "string" &&
      typeof e.walrusUrl === "string" &&
      typeof e.region === "string"
    )
      return e as CloudEndpoints;
  } catch {
    // none recorded (the cloud never ran here) or unreadable: fall back to the settings
  }
  return undefined;
}

const ENDPOINT_SETTINGS: ReadonlyArray<keyof Settings> = ["host", "ec2Port", "s3Port", "region", "tls"];

/**
 * The endpoints to write into credentials from a command that does not serve them
 * (`euca admin …`, `euca init`): those the user asked for, else those the cloud
 * last served from this data directory, else the defaults.
 */
export function endpointsForCommand(
  s: Pick<Settings, "dataDir" | "host" | "region" | "ec2Port" | "s3Port" | "tls" | "roles" | "webCert">,
  given: ReadonlySet<keyof Settings>,
): CloudEndpoints {
  const explicit = ENDPOINT_SETTINGS.some((k) => given.has(k));
  return (!explicit && readServedEndpoints(s.dataDir)) || endpointsFor(s, { ec2: s.ec2Port, s3: s.s3Port });
}

/** The head's internal URL for join tokens: the one the running cloud serves, else its host and --internal-port. */
export function internalUrlForCommand(s: Pick<Settings, "dataDir" | "host" | "internalPort">): string {
  return readServedEndpoints(s.dataDir)?.internalUrl ?? `https://${urlHost(s.host)}:${s.internalPort}`;
}

/** WEB_URL, else the web interface at this host (loopback for a wildcard) on the port it listens on. */
export const webUrlOf = (s: { webUrl: string; host: string }, port: number): string =>
  s.webUrl || `https://${urlHost(s.host)}:${port}`;
