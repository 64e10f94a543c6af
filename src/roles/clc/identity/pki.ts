/**
 * X.509 for the cloud: the cloud CA (cloud-cert.pem / cloud-pk.pem) and one key pair
 * and certificate per user, signed by the CA (bundles and SOAP use them later).
 * Certificates are built with @peculiar/x509 over Node's WebCrypto.
 */
import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import * as x509 from "@peculiar/x509";
import { createHash, createPrivateKey, randomBytes, webcrypto } from "node:crypto";

export const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

export interface KeyAndCert {
  certPem: string;
  keyPem: string; // PKCS#1 "RSA PRIVATE KEY", what ec2-bundle-image and euca2ools read
  fingerprint: string; // SHA-1 of the DER certificate, lower-case hex
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

function provider(): x509.CryptoProvider {
  // Set on every call rather than at import: no import-time side effects.
  x509.cryptoProvider.set(webcrypto as never);
  return x509.cryptoProvider;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString("hex");
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs1" })
    .toString();
}

export async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: "der", type: "pkcs8" });
  return webcrypto.subtle.importKey("pkcs8", der, RSA, false, ["sign"]);
}

function fingerprintOf(cert: x509.X509Certificate): string {
  return createHash("sha1").update(Buffer.from(cert.rawData)).digest("hex");
}

export async function createCloudCa(cloudName: string, now: Date): Promise<KeyAndCert> {
  provider();
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cloudName} cloud CA, O=euca`,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 20 * YEAR_MS),
    signingAlgorithm: RSA,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return {
    certPem: cert.toString("pem"),
    keyPem: await exportKeyPem(keys.privateKey),
    fingerprint: fingerprintOf(cert),
  };
}

/** A key pair and certificate for a user (CN=user, OU=account), signed by the cloud CA. */
export async function issueUserCertificate(
  ca: { certPem: string; keyPem: string },
  subject: { user: string; account: string },
  now: Date,
): Promise<KeyAndCert> {
  provider();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const escape = (s: string) => s.replace(/([,+"\\<>;=])/g, "\\$1");
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escape(subject.user)}, OU=${escape(subject.account)}, O=euca`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 5 * YEAR_MS),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey as never,
    signingKey: caKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return {
    certPem: cert.toString("pem"),
    keyPem: await exportKeyPem(keys.privateKey),
    fingerprint: fingerprintOf(cert),
  };
}

/** True when `certPem` was signed by the CA certificate. */
export async function verifyIssuedBy(certPem: string, caCertPem: string): Promise<boolean> {
  provider();
  return new x509.X509Certificate(certPem).verify({ publicKey: new x509.X509Certificate(caCertPem) });
}

/** First 8 hex digits of the SHA-1 of the public key, as Eucalyptus named credential files. */
export function publicKeyTag(certPem: string): string {
  provider();
  const cert = new x509.X509Certificate(certPem);
  return createHash("sha1").update(Buffer.from(cert.publicKey.rawData)).digest("hex").slice(0, 8);
}

const EC: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
} as never;

/**
 * A TLS server certificate for the web interface, signed by the cloud CA: ECDSA P-256
 * (quick to make at every first start), the names and addresses it answers on as
 * subjectAltNames, serverAuth only. Browsers that trust cloud-cert.pem trust it.
 */
export async function issueServerCertificate(
  ca: { certPem: string; keyPem: string },
  names: { dns: string[]; ips: string[] },
  now: Date,
): Promise<{ certPem: string; keyPem: string }> {
  provider();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${names.dns[0] ?? names.ips[0] ?? "euca"}, O=euca`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 3600_000),
    notAfter: new Date(now.getTime() + 397 * 24 * 3600 * 1000), // browsers refuse longer-lived server certificates
    signingAlgorithm: RSA,
    publicKey: keys.publicKey as never,
    signingKey: caKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        [
          ...names.dns.map((value) => ({ type: "dns" as const, value })),
          ...names.ips.map((value) => ({ type: "ip" as const, value })),
        ],
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    certPem: `${cert.toString("pem")}\n`,
    keyPem: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })
      .export({ format: "pem", type: "pkcs8" })
      .toString(),
  };
}

/** The names a server certificate lists, read back (tests, `euca admin`). */
export function subjectAltNames(certPem: string): string[] {
  provider();
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  return ext ? ext.names.items.map((n) => `${n.type}:${n.value}`) : [];
}

/** When a certificate stops being valid. */
export function notAfter(certPem: string): Date {
  provider();
  return new x509.X509Certificate(certPem).notAfter;
}
