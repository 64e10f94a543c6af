/**
 * A host's TLS material for role-to-role calls: its key (made on the host at `euca join`,
 * never sent anywhere), the certificate the cloud CA issued it (its component identities
 * as subjectAltName URIs, its addresses), the CA's certificate, and the CA's revocation
 * list. Servers require a client certificate from the CA that is not revoked; clients
 * check the server's chain, address and role.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { checkServerIdentity } from "node:tls";
import { certificateFacts, normalSerial, revokedSerials } from "../auth/x509";
import { writeFileAtomic } from "../common/files";
import type { DataDirLayout } from "../common/data-dir";
import { parseIdentityUri, type ComponentIdentity, type ComponentRole } from "./identity";

export interface HostTls {
  keyPem: string;
  certPem: string;
  caPem: string;
  identities: ComponentIdentity[];
}

export const identitiesOf = (certPem: string): ComponentIdentity[] =>
  certificateFacts(certPem)
    .uris.map(parseIdentityUri)
    .filter((i): i is ComponentIdentity => !!i);

/** The host's material when it has been issued a certificate; undefined on a host that has not joined. */
export function loadHostTls(layout: DataDirLayout): HostTls | undefined {
  if (!existsSync(layout.hostCert) || !existsSync(layout.hostKey) || !existsSync(layout.cloudCert)) return undefined;
  const certPem = readFileSync(layout.hostCert, "utf8");
  return {
    keyPem: readFileSync(layout.hostKey, "utf8"),
    certPem,
    caPem: readFileSync(layout.cloudCert, "utf8"),
    identities: identitiesOf(certPem),
  };
}

/** Key first (0600), then the certificates: a crash between writes leaves no certificate without its key. */
export function writeHostTls(layout: DataDirLayout, t: { keyPem: string; certPem: string; caPem: string }): void {
  writeFileAtomic(layout.hostKey, t.keyPem, 0o600);
  if (!existsSync(layout.cloudKey)) writeFileAtomic(layout.cloudCert, t.caPem, 0o644); // public, as the head's
  writeFileAtomic(layout.hostCert, t.certPem, 0o600); // keys/ holds only 0600 files (the data directory check)
}

/**
 * The revoked serial numbers, from the CRL file (verified against the CA), re-read when
 * the file changes. A CRL that does not verify is ignored with the previous set kept.
 */
export class Revocations {
  private stamp = "";
  private serials = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly caPem: string,
  ) {}

  async refresh(): Promise<void> {
    const st = existsSync(this.file) ? statSync(this.file) : undefined;
    const now = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : "";
    if (now === this.stamp) return;
    this.serials = st ? await revokedSerials(readFileSync(this.file, "utf8"), this.caPem) : new Set();
    this.stamp = now;
  }

  /** Installs a CRL fetched from the CLC, after checking its signature. */
  async install(crlPem: string): Promise<void> {
    await revokedSerials(crlPem, this.caPem); // throws when not the CA's
    writeFileAtomic(this.file, crlPem, 0o600);
    await this.refresh();
  }

  has(serial: string): boolean {
    return this.serials.has(normalSerial(serial));
  }
}

/** What a server needs to ask for and check client certificates (TLS 1.2 at least). */
export function serverTlsOptions(t: HostTls) {
  return { cert: t.certPem, key: t.keyPem, ca: t.caPem, requestCert: true, rejectUnauthorized: false };
}

export type PeerCheck =
  | { ok: true; identities: ComponentIdentity[]; serial: string }
  | { ok: false; reason: "no-certificate" | "untrusted" | "revoked" | "no-identity"; message: string };

/** Who is on the other end of a TLS connection this server accepted, by its certificate. */
export function checkPeer(socket: TLSSocket, revoked: (serial: string) => boolean): PeerCheck {
  const cert = socket.getPeerCertificate(false) as PeerCertificate | Record<string, never>;
  if (!cert || !("raw" in cert) || !cert.raw)
    return { ok: false, reason: "no-certificate", message: "Internal calls need this cloud's host certificate" };
  if (!socket.authorized)
    return {
      ok: false,
      reason: "untrusted",
      message: `The client certificate is not from this cloud's CA (${String(socket.authorizationError)})`,
    };
  if (revoked(cert.serialNumber))
    return { ok: false, reason: "revoked", message: "The client certificate has been revoked" };
  const identities = (cert.subjectaltname ?? "")
    .split(/,\s*/)
    .filter((a) => a.startsWith("URI:"))
    .map((a) => parseIdentityUri(a.slice(4)))
    .filter((i): i is ComponentIdentity => !!i);
  if (!identities.length)
    return { ok: false, reason: "no-identity", message: "The client certificate names no euca component" };
  return { ok: true, identities, serial: normalSerial(cert.serialNumber) };
}

/**
 * A client's TLS options: its certificate, the CA only, and a server that holds the
 * address called (the usual check) and an identity of the role called — so a node's
 * certificate cannot stand in for a CC or for Walrus.
 */
export function clientTlsOptions(t: HostTls, serverRole: ComponentRole) {
  return {
    cert: t.certPem,
    key: t.keyPem,
    ca: t.caPem,
    checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
      const usual = checkServerIdentity(host, cert);
      if (usual) return usual;
      const roles = (cert.subjectaltname ?? "")
        .split(/,\s*/)
        .filter((a) => a.startsWith("URI:"))
        .map((a) => parseIdentityUri(a.slice(4))?.role);
      return roles.includes(serverRole)
        ? undefined
        : new Error(`the server at ${host} holds no ${serverRole} certificate of this cloud`);
    },
  };
}
