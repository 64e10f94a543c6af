import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  renderEucarc,
  renderEnv,
  renderAwsProfile,
  type CloudEndpoints,
  type CredentialSet,
} from "../../../../src/roles/clc/identity/credentials";
import {
  createCloudCa,
  issueUserCertificate,
  verifyIssuedBy,
  publicKeyTag,
} from "../../../../src/roles/clc/identity/pki";
import { tempDir } from "../../../support/cloud";

const set: CredentialSet = {
  user: "alice",
  accountNumber: "123456789012",
  accessKeyId: "AKIEXAMPLE0000000001",
  secretKey: "se'cret/+x",
  baseName: "euca2-alice-0badf00d",
};
const endpoints: CloudEndpoints = {
  region: "eucalyptus",
  ec2Url: "http://127.0.0.1:8773/services/Eucalyptus",
  s3Url: "http://127.0.0.1:8776",
  walrusUrl: "http://127.0.0.1:8773/services/Walrus",
};

describe("credential files", () => {
  it("eucarc, sourced by bash from anywhere, exports the Eucalyptus and AWS variables with paths beside it", () => {
    const dir = join(tempDir(), "creds with space");
    mkdirSync(dir);
    writeFileSync(join(dir, "eucarc"), renderEucarc(set, endpoints));
    const out = execFileSync("/bin/bash", ["-c", `cd / && source "${dir}/eucarc" && env`], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    });
    const env = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(env).toMatchObject({
      EC2_URL: endpoints.ec2Url,
      S3_URL: endpoints.s3Url,
      EC2_ACCESS_KEY: set.accessKeyId,
      EC2_SECRET_KEY: set.secretKey,
      AWS_ACCESS_KEY_ID: set.accessKeyId,
      AWS_SECRET_ACCESS_KEY: set.secretKey,
      AWS_DEFAULT_REGION: "eucalyptus",
      EUCALYPTUS_CERT: `${dir}/cloud-cert.pem`,
      EC2_CERT: `${dir}/euca2-alice-0badf00d-cert.pem`,
      EC2_PRIVATE_KEY: `${dir}/euca2-alice-0badf00d-pk.pem`,
      EC2_USER_ID: "123456789012",
      TOKEN_URL: "http://127.0.0.1:8773/services/Tokens",
      AWS_IAM_URL: "http://127.0.0.1:8773/services/Euare",
      AWS_ENDPOINT_URL_STS: "http://127.0.0.1:8773/services/Tokens",
      AWS_ENDPOINT_URL_IAM: "http://127.0.0.1:8773/services/Euare",
    });
  });

  it("env and aws formats", () => {
    expect(renderEnv(set, endpoints, "/d")).toContain("EC2_CERT=/d/euca2-alice-0badf00d-cert.pem\n");
    expect(renderAwsProfile(set, endpoints)).toContain(
      "[euca-alice]\naws_access_key_id = AKIEXAMPLE0000000001\naws_secret_access_key = se'cret/+x\nregion = eucalyptus\n",
    );
  });
});

describe("cloud CA and user certificates", () => {
  it("issues a user certificate signed by the cloud CA, with a matching RSA key in PKCS#1 PEM", async () => {
    const now = new Date();
    const ca = await createCloudCa("euca", now);
    const user = await issueUserCertificate(ca, { user: "alice", account: "lab" }, now);
    expect(await verifyIssuedBy(user.certPem, ca.certPem)).toBe(true);
    const other = await createCloudCa("other", now);
    expect(await verifyIssuedBy(user.certPem, other.certPem)).toBe(false);
    const cert = new X509Certificate(user.certPem);
    expect(cert.subject).toContain("CN=alice");
    expect(cert.ca).toBe(false);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(user.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(cert.checkPrivateKey(createPrivateKey(user.keyPem))).toBe(true);
    expect(publicKeyTag(user.certPem)).toMatch(/^[0-9a-f]{8}$/);
  });
});
