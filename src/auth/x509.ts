/**
 * X.509 that every host needs (made with @peculiar/x509 over Node's WebCrypto): a host's
 * own key and its certificate request, what a certificate or a revocation list says,
 * and fingerprints. Issuing is the cloud CA's, on the CLC (roles/clc/identity/).
 */
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";
import { createHash, createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";

/** ECDSA P-256: quick to make on every host, what TLS 1.3 prefers. */
export const EC_P256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
} as never;

export function x509Provider(): x509.CryptoProvider {
  // Set on every call rather than at import: no import-time side effects.
  x509.cryptoProvider.set(webcrypto as never);
  return x509.cryptoProvider;
}

/** A positive 128-bit serial number, hex. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10; // positive, and no leading zero nibble for tools to drop
  return b.toString("hex");
}

/** Serial numbers as tools print them differ in case and leading zeros: one form to compare. */
export const normalSerial = (s: string): string => s.toLowerCase().replace(/^0+/, "");

export async function exportPkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
}

/**
 * A host's key pair (made here; the private key never leaves the host) and a certificate
 * request for it. The CA decides the names the certificate gets, not the request.
 */
export async function makeKeyAndRequest(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  x509Provider();
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName.replace(/([,+"\\<>;=])/g, "\\$1")}`,
    keys: keys as never,
    signingAlgorithm: EC_P256,
  });
  return { keyPem: await exportPkcs8Pem(keys.privateKey), csrPem: csr.toString("pem") };
}

/** The public key of a certificate request whose self-signature holds; undefined when it does not parse or verify. */
export async function requestPublicKey(csrPem: string): Promise<x509.PublicKey | undefined> {
  x509Provider();
  try {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    return (await csr.verify()) ? csr.publicKey : undefined;
  } catch {
    return undefined;
  }
}

export interface CertificateFacts {
  serial: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** subjectAltName URIs (euca://… component identities), IP addresses and DNS names. */
  uris: string[];
  ips: string[];
  dns: string[];
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string;
}

export function certificateFacts(pem: string): CertificateFacts {
  const c = new X509Certificate(pem);
  const alt = (c.subjectAltName ?? "").split(/,\s*/).filter(Boolean);
  const of = (prefix: string) => alt.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));
  return {
    serial: normalSerial(c.serialNumber),
    subject: c.subject,
    issuer: c.issuer,
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    uris: of("URI:"),
    ips: of("IP Address:"),
    dns: of("DNS:"),
    sha256: sha256Fingerprint(pem),
  };
}

/** SHA-256 of a certificate's DER, lower-case hex: what a join token pins. */
export function sha256Fingerprint(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}

/** True when `certPem` is signed by `caPem` and names it as issuer. */
export function issuedBy(certPem: string, caPem: string): boolean {
  const c = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  return c.checkIssued(ca) && c.verify(ca.publicKey);
}

/** The serial numbers a CRL revokes, after checking it is signed by `caPem`; throws when it is not. */
export async function revokedSerials(crlPem: string, caPem: string): Promise<Set<string>> {
  x509Provider();
  const crl = new x509.X509Crl(crlPem);
  const ok = await crl.verify({ publicKey: new x509.X509Certificate(caPem) });
  if (!ok) throw new Error("the revocation list is not signed by the cloud CA");
  return new Set(crl.entries.map((e) => normalSerial(e.serialNumber)));
}
