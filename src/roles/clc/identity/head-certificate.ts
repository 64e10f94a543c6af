/**
 * The head's own host certificate, issued by its CA at start: it serves the head's
 * internal listener (joins, Walrus and metadata for other hosts) and is the client
 * certificate the CLC calls remote CCs with (and the head's CC its remote nodes). Made
 * again when the roles or the address it must name change or a month before it expires.
 */
import { existsSync, readFileSync } from "node:fs";
import { certificateFacts, issuedBy, makeKeyAndRequest } from "../../../auth/x509";
import { identityUri, type ComponentIdentity } from "../../../rpc/identity";
import { writeHostTls } from "../../../rpc/host-tls";
import type { DataDirLayout } from "../../../common/data-dir";
import type { CloudCa } from "./cloud-ca";
import { issueHostCertificate } from "./host-certificates";

const RENEW_MS = 30 * 24 * 3600 * 1000;

export async function ensureHeadCertificate(
  layout: DataDirLayout,
  ca: CloudCa,
  o: { identities: ComponentIdentity[]; addresses: string[]; now: Date },
): Promise<{ made: boolean; serial: string; notAfter: Date }> {
  const wanted = new Set(o.identities.map(identityUri));
  if (existsSync(layout.hostCert) && existsSync(layout.hostKey)) {
    const pem = readFileSync(layout.hostCert, "utf8");
    const f = certificateFacts(pem);
    const same =
      f.uris.length === wanted.size &&
      f.uris.every((u) => wanted.has(u)) &&
      o.addresses.every((a) => f.ips.includes(a) || f.dns.includes(a)) &&
      f.notAfter.getTime() - o.now.getTime() > RENEW_MS &&
      issuedBy(pem, ca.certPem);
    if (same) return { made: false, serial: f.serial, notAfter: f.notAfter };
  }
  const { keyPem, csrPem } = await makeKeyAndRequest("head");
  const cert = await issueHostCertificate(ca, { csrPem, identities: o.identities, addresses: o.addresses, now: o.now });
  writeHostTls(layout, { keyPem, certPem: cert.certPem, caPem: ca.certPem });
  return { made: true, serial: cert.serial, notAfter: cert.notAfter };
}

/** What the head's certificate names: the CLC, and Walrus, a CC and an SC of its cluster where they run with it. */
export function headIdentities(roles: readonly string[], cluster: string): ComponentIdentity[] {
  const out: ComponentIdentity[] = [{ role: "clc" }];
  if (roles.includes("walrus")) out.push({ role: "walrus" });
  if (roles.includes("cc")) out.push({ role: "cc", cluster });
  if (roles.includes("sc")) out.push({ role: "sc", cluster });
  return out;
}

/** The addresses other hosts reach the head at: its --host (a wildcard names none), and loopback. */
export function headAddresses(host: string): string[] {
  const out = ["127.0.0.1"];
  if (host && host !== "0.0.0.0" && host !== "::" && !out.includes(host)) out.unshift(host);
  return out;
}
