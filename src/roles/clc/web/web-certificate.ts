/**
 * The certificate of the user-facing HTTPS listeners (the web interface; EC2, STS/IAM and
 * S3 with TLS on): the admin's (--web-cert/--web-key), or one the cloud CA signs at first
 * start for the listening host, loopback, this machine's name and the S3 domain (with its
 * buckets' names), kept in the data dir (web/server-cert.pem, key 0600) and made again a
 * month before it expires or when the names it should hold change.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../../../common/files";
import type { CloudCa } from "../identity/cloud-ca";
import { issueServerCertificate, notAfter, subjectAltNames } from "../identity/pki";

export interface WebCertificate {
  certPem: string;
  keyPem: string;
  /** "admin" when the admin's files are used, else "cloud-ca". */
  source: "admin" | "cloud-ca";
  made: boolean;
}

const RENEW_MS = 30 * 24 * 3600 * 1000;

export async function ensureWebCertificate(o: {
  dir: string;
  /** Absent where no CLC runs: the admin's files are then needed. */
  ca?: CloudCa;
  host: string;
  s3Domain?: string;
  certFile: string;
  keyFile: string;
  now: Date;
}): Promise<WebCertificate> {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile)
      throw new Error(
        "--web-cert and --web-key go together: give both, or neither for a certificate from the cloud CA",
      );
    return {
      certPem: readFileSync(o.certFile, "utf8"),
      keyPem: readFileSync(o.keyFile, "utf8"),
      source: "admin",
      made: false,
    };
  }
  if (!o.ca)
    throw new Error(
      "HTTPS here needs a certificate: give --web-cert and --web-key (no cloud CA where the CLC does not run), or --tls off",
    );
  const certPath = join(o.dir, "server-cert.pem");
  const keyPath = join(o.dir, "server-pk.pem");
  const wanted = names(o.host, o.s3Domain);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const certPem = readFileSync(certPath, "utf8");
    const have = new Set(subjectAltNames(certPem));
    const fresh = notAfter(certPem).getTime() - o.now.getTime() > RENEW_MS;
    if (
      fresh &&
      [...wanted.dns.map((n) => `dns:${n}`), ...wanted.ips.map((n) => `ip:${n}`)].every((n) => have.has(n))
    ) {
      return { certPem, keyPem: readFileSync(keyPath, "utf8"), source: "cloud-ca", made: false };
    }
  }
  const made = await issueServerCertificate(o.ca, wanted, o.now);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(keyPath, made.keyPem, 0o600);
  writeFileAtomic(certPath, made.certPem, 0o644);
  return { ...made, source: "cloud-ca", made: true };
}

function names(host: string, s3Domain = ""): { dns: string[]; ips: string[] } {
  const dns = new Set(["localhost", hostname()]);
  // Virtual-hosted S3: bucket.<domain> (a wildcard covers one label, as S3's own).
  if (s3Domain) dns.add(s3Domain).add(`*.${s3Domain}`);
  const ips = new Set(["127.0.0.1", "::1"]);
  if (isIP(host)) {
    if (host !== "0.0.0.0" && host !== "::") {
      ips.add(host);
      // boto 2 (euca2ools) matches a host only against DNS names, never IP entries: the address as a name too.
      if (isIP(host) === 4) dns.add(host);
    }
  } else if (host) dns.add(host);
  return { dns: [...dns], ips: [...ips] };
}

/** The key that signs the web interface's cookies: 32 random bytes made at first start, kept 0600 in web/cookie-secret. */
export function ensureCookieSecret(dir: string): Buffer {
  const file = join(dir, "cookie-secret");
  if (!existsSync(file)) writeFileAtomic(file, randomBytes(32).toString("hex"), 0o600);
  return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
}
