/** A throw-away cloud CA and host certificates issued by it, as `euca join` gets them. */
import { createCloudCa } from "../../src/roles/clc/identity/pki";
import { issueHostCertificate } from "../../src/roles/clc/identity/host-certificates";
import { makeKeyAndRequest } from "../../src/auth/x509";
import type { ComponentIdentity } from "../../src/rpc/identity";
import { identitiesOf, type HostTls } from "../../src/rpc/host-tls";
import type { CloudCa } from "../../src/roles/clc/identity/cloud-ca";

export async function testCa(): Promise<CloudCa> {
  const ca = await createCloudCa("test", new Date());
  return { certPem: ca.certPem, keyPem: ca.keyPem };
}

export async function hostTls(
  ca: CloudCa,
  identities: ComponentIdentity[],
  o: { addresses?: string[]; now?: Date } = {},
): Promise<HostTls & { serial: string }> {
  const { keyPem, csrPem } = await makeKeyAndRequest("test-host");
  const cert = await issueHostCertificate(ca, {
    csrPem,
    identities,
    addresses: o.addresses ?? ["127.0.0.1"],
    now: o.now ?? new Date(),
  });
  return {
    keyPem,
    certPem: cert.certPem,
    caPem: ca.certPem,
    identities: identitiesOf(cert.certPem),
    serial: cert.serial,
  };
}
