/**
 * The cloud CA's side of host certificates: one per host that joins (and one for the
 * head itself), issued from the host's certificate request with the component
 * identities and addresses the CLC decides, and the revocation list of those removed.
 */
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { randomSerial, requestPublicKey, x509Provider } from "../../../auth/x509";
import { identityUri, type ComponentIdentity } from "../../../rpc/identity";
import { InvalidParameterError } from "../../../common/errors";
import { importKeyPem, RSA } from "./pki";
import type { CloudCa } from "./cloud-ca";

/** A host certificate lives a year; `euca doctor` warns a month before, a host renews by joining again. */
export const HOST_CERT_DAYS = 365;

export async function issueHostCertificate(
  ca: CloudCa,
  o: { csrPem: string; identities: readonly ComponentIdentity[]; addresses: readonly string[]; now: Date },
): Promise<{ certPem: string; serial: string; notAfter: Date }> {
  const publicKey = await requestPublicKey(o.csrPem);
  if (!publicKey)
    throw new InvalidParameterError("csr", "The certificate request does not parse or is not self-signed");
  x509Provider();
  const caCert = new x509.X509Certificate(ca.certPem);
  const serial = randomSerial();
  const notAfter = new Date(o.now.getTime() + HOST_CERT_DAYS * 24 * 3600 * 1000);
  const first = o.identities[0];
  if (!first) throw new InvalidParameterError("identities", "A host certificate names at least one component");
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${identityUri(first).slice("euca://".length).replaceAll("/", " ")}, O=euca`,
    issuer: caCert.subject,
    notBefore: new Date(o.now.getTime() - 3600_000),
    notAfter,
    signingAlgorithm: RSA,
    publicKey,
    signingKey: (await importKeyPem(ca.keyPem)) as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(
        [
          ...o.identities.map((i) => ({ type: "url" as const, value: identityUri(i) })),
          ...o.addresses.map((a) => (isIP(a) ? { type: "ip" as const, value: a } : { type: "dns" as const, value: a })),
        ],
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", serial, notAfter };
}

/** The CA's revocation list: every serial given, signed now, next update in a day (hosts fetch it far more often). */
export async function makeRevocationList(
  ca: CloudCa,
  revoked: ReadonlyArray<{ serial: string; at: Date }>,
  now: Date,
): Promise<string> {
  x509Provider();
  const caCert = new x509.X509Certificate(ca.certPem);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 24 * 3600 * 1000),
    signingAlgorithm: RSA,
    signingKey: (await importKeyPem(ca.keyPem)) as never,
    entries: revoked.map((r) => ({ serialNumber: r.serial, revocationDate: r.at })),
  });
  return crl.toString("pem") + "\n";
}
