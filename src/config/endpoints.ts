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

const ENDPOINT_SETTINGS: ReadonlyArray<keyof Settings> = ["host", "ec2Port", "s3Port", "region"];

/**
 * The endpoints to write into credentials from a command that does not serve them
 * (`euca admin …`, `euca init`): those the user asked for, else those the cloud
 * last served from this data directory, else the defaults.
 */
export function endpointsForCommand(
  s: Pick<Settings, "dataDir" | "host" | "region" | "ec2Port" | "s3Port">,
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
