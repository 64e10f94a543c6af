/**
 * A user's credential set, laid out as Eucalyptus 1.6 did (reference §6.3): eucarc,
 * cloud-cert.pem, euca2-<user>-<tag>-pk.pem and -cert.pem, plus an AWS-style
 * credentials snippet. Rendering is pure; writing is atomic, files are 0600.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../../common/files";

import { euareUrl, tokensUrl, type CloudEndpoints } from "../../../config/endpoints";

export type { CloudEndpoints };

export interface CredentialSet {
  user: string;
  accountNumber: string;
  accessKeyId: string;
  secretKey: string;
  baseName: string; // euca2-<user>-<tag>
}

export type CredentialFormat = "eucarc" | "env" | "aws";
export const CREDENTIAL_FORMATS: readonly CredentialFormat[] = ["eucarc", "env", "aws"];

function quote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** Variables for the user, with paths relative to `keyDir` (a shell expression or a path). */
function variables(c: CredentialSet, e: CloudEndpoints, keyDir: string): Array<[string, string, boolean]> {
  // [name, value, value-is-shell-expression]
  return [
    ["EC2_URL", e.ec2Url, false],
    ["S3_URL", e.s3Url, false],
    ["AWS_ENDPOINT_URL_EC2", e.ec2Url, false],
    ["AWS_ENDPOINT_URL_S3", e.s3Url, false],
    ["TOKEN_URL", tokensUrl(e), false],
    ["AWS_IAM_URL", euareUrl(e), false],
    ["AWS_ENDPOINT_URL_STS", tokensUrl(e), false],
    ["AWS_ENDPOINT_URL_IAM", euareUrl(e), false],
    ["EC2_PRIVATE_KEY", `${keyDir}/${c.baseName}-pk.pem`, true],
    ["EC2_CERT", `${keyDir}/${c.baseName}-cert.pem`, true],
    ["EUCALYPTUS_CERT", `${keyDir}/cloud-cert.pem`, true],
    // HTTPS with the cloud CA's certificate: awscli, boto3, the SDKs and euca's own tools trust it through this.
    ...(e.cloudCaTls
      ? ([["AWS_CA_BUNDLE", `${keyDir}/cloud-cert.pem`, true]] as Array<[string, string, boolean]>)
      : []),
    ["EC2_ACCESS_KEY", c.accessKeyId, false],
    ["EC2_SECRET_KEY", c.secretKey, false],
    ["AWS_ACCESS_KEY_ID", c.accessKeyId, false],
    ["AWS_SECRET_ACCESS_KEY", c.secretKey, false],
    ["AWS_DEFAULT_REGION", e.region, false],
    ["EC2_USER_ID", c.accountNumber, false],
  ];
}

/**
 * eucarc. With `keyDir` unset the file finds its own directory when sourced (bash,
 * zsh, dash via $0 fallback), as Eucalyptus' did; with `keyDir` set it uses that path.
 */
export function renderEucarc(c: CredentialSet, e: CloudEndpoints, keyDir?: string): string {
  const dirExpr = keyDir === undefined ? "${EUCA_KEY_DIR}" : keyDir;
  const lines = [`# euca credentials for user ${c.user}. To set up the environment run: source /path/to/eucarc`];
  if (keyDir === undefined) lines.push('EUCA_KEY_DIR=$(cd "$(dirname "${BASH_SOURCE:-$0}")" && pwd -P)');
  for (const [name, value, expr] of variables(c, e, dirExpr)) {
    if (name === "EC2_USER_ID")
      lines.push("# This is a bogus value; Eucalyptus does not need this but client tools do.");
    lines.push(`export ${name}=${expr && keyDir === undefined ? `"${value}"` : quote(value)}`);
  }
  lines.push(
    `alias ec2-bundle-image="ec2-bundle-image --cert \${EC2_CERT} --privatekey \${EC2_PRIVATE_KEY} --user ${c.accountNumber} --ec2cert \${EUCALYPTUS_CERT}"`,
    `alias ec2-upload-bundle="ec2-upload-bundle -a \${EC2_ACCESS_KEY} -s \${EC2_SECRET_KEY} --url \${S3_URL} --ec2cert \${EUCALYPTUS_CERT}"`,
    "",
  );
  return lines.join("\n");
}

/** KEY=value lines (systemd EnvironmentFile, docker --env-file), absolute paths. */
export function renderEnv(c: CredentialSet, e: CloudEndpoints, keyDir: string): string {
  return (
    variables(c, e, keyDir)
      .map(([n, v]) => `${n}=${v}`)
      .join("\n") + "\n"
  );
}

/** A profile for ~/.aws/credentials; endpoints go on the command line (awscli 2.9 has no endpoint setting). */
export function renderAwsProfile(c: CredentialSet, e: CloudEndpoints): string {
  return [
    `# euca user ${c.user}: aws --profile euca-${c.user} --endpoint-url ${e.ec2Url} ec2 describe-availability-zones`,
    `[euca-${c.user}]`,
    `aws_access_key_id = ${c.accessKeyId}`,
    `aws_secret_access_key = ${c.secretKey}`,
    `region = ${e.region}`,
    "",
  ].join("\n");
}

/**
 * ~/.aws/config for the profile: its region and, in a services section, each service's
 * endpoint (awscli 2.13 and later read them; older ones ignore the section, and the
 * comment says what to pass instead).
 */
export function renderAwsConfig(c: CredentialSet, e: CloudEndpoints): string {
  return [
    `# euca user ${c.user}. awscli older than 2.13 ignores the endpoints below: pass --endpoint-url ${e.ec2Url} (EC2) or ${e.s3Url} (S3)`,
    `[profile euca-${c.user}]`,
    `region = ${e.region}`,
    ...(e.cloudCaTls
      ? [
          "# HTTPS with a certificate from the cloud CA: sourcing eucarc sets AWS_CA_BUNDLE, or uncomment with the full path",
          "# ca_bundle = /path/to/cloud-cert.pem",
        ]
      : []),
    `services = euca-${c.user}`,
    "",
    `[services euca-${c.user}]`,
    ...(
      [
        ["ec2", e.ec2Url],
        ["s3", e.s3Url],
        ["sts", tokensUrl(e)],
        ["iam", euareUrl(e)],
      ] as const
    ).flatMap(([svc, url]) => [`${svc} =`, `  endpoint_url = ${url}`]),
    "",
  ].join("\n");
}

export function renderCredentials(
  format: CredentialFormat,
  c: CredentialSet,
  e: CloudEndpoints,
  keyDir: string,
): string {
  switch (format) {
    case "eucarc":
      return renderEucarc(c, e, keyDir);
    case "env":
      return renderEnv(c, e, keyDir);
    case "aws":
      return renderAwsProfile(c, e);
  }
}

export interface CredentialFiles {
  dir: string;
  eucarc: string;
}

/** Writes (or refreshes) the set in `dir`. Key and certificate files are written only when given. */
export function writeCredentialFiles(
  dir: string,
  c: CredentialSet,
  e: CloudEndpoints,
  pems: { cloudCertPem: string; keyPem?: string; certPem?: string },
): CredentialFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (pems.keyPem) writeFileAtomic(join(dir, `${c.baseName}-pk.pem`), pems.keyPem);
  if (pems.certPem) writeFileAtomic(join(dir, `${c.baseName}-cert.pem`), pems.certPem);
  writeFileAtomic(join(dir, "cloud-cert.pem"), pems.cloudCertPem, 0o644);
  writeFileAtomic(join(dir, "eucarc"), renderEucarc(c, e));
  writeFileAtomic(join(dir, "aws-credentials"), renderAwsProfile(c, e));
  return { dir, eucarc: join(dir, "eucarc") };
}

/** The base name of the key/cert pair already in `dir`, if there is one. */
export function existingBaseName(dir: string, user: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const prefix = `euca2-${user}-`;
  const certs = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith("-cert.pem"));
  for (const cert of certs.sort()) {
    const base = cert.slice(0, -"-cert.pem".length);
    if (existsSync(join(dir, `${base}-pk.pem`))) return base;
  }
  return undefined;
}

export function removeCredentialFiles(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
