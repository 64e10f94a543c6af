/** What the image tools need from the user's environment (eucarc), as the AWS tools read it. */
export interface ClientEnv {
  ec2Url: string;
  s3Url: string;
  accessKeyId: string;
  secretKey: string;
  region: string;
  certPath?: string;
  keyPath?: string;
  cloudCertPath?: string;
  userId?: string;
  /** AWS_CA_BUNDLE: the certificates https endpoints are checked against (eucarc names cloud-cert.pem). */
  caBundle?: string;
}

export class ClientEnvError extends Error {}

export function clientEnv(env: NodeJS.ProcessEnv, need: { signing?: boolean } = {}): ClientEnv {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  const out = {
    ec2Url: pick("EC2_URL", "AWS_ENDPOINT_URL_EC2"),
    s3Url: pick("S3_URL", "AWS_ENDPOINT_URL_S3"),
    accessKeyId: pick("AWS_ACCESS_KEY_ID", "EC2_ACCESS_KEY"),
    secretKey: pick("AWS_SECRET_ACCESS_KEY", "EC2_SECRET_KEY"),
    region: pick("AWS_DEFAULT_REGION") ?? "eucalyptus",
    certPath: pick("EC2_CERT"),
    keyPath: pick("EC2_PRIVATE_KEY"),
    cloudCertPath: pick("EUCALYPTUS_CERT"),
    userId: pick("EC2_USER_ID"),
    caBundle: pick("AWS_CA_BUNDLE"),
  };
  const missing = [
    ...(!out.ec2Url ? ["EC2_URL"] : []),
    ...(!out.s3Url ? ["S3_URL"] : []),
    ...(!out.accessKeyId ? ["AWS_ACCESS_KEY_ID"] : []),
    ...(!out.secretKey ? ["AWS_SECRET_ACCESS_KEY"] : []),
    ...(need.signing
      ? [
          ["EC2_CERT", out.certPath],
          ["EC2_PRIVATE_KEY", out.keyPath],
          ["EUCALYPTUS_CERT", out.cloudCertPath],
          ["EC2_USER_ID", out.userId],
        ]
          .filter(([, v]) => !v)
          .map(([n]) => n!)
      : []),
  ];
  if (missing.length)
    throw new ClientEnvError(
      `${missing.join(", ")} not set: source your eucarc (euca admin credentials --user NAME) first`,
    );
  return out as ClientEnv;
}
