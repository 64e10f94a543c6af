/**
 * Authenticates an EC2 Query request: SigV4 in the Authorization header (awscli,
 * boto3, the JS SDK, boto 2) or SigV1/SigV2 in the parameters (older boto,
 * euca2ools 2.x). The region is taken from the credential scope as sent
 * (reference/ec2-wire.md §2); the service must be EC2's.
 */
import { AuthError } from "../../auth/errors";
import { sha256Hex, safeEqual } from "../../auth/crypto";
import { parseAuthorizationHeader, verifySigV4Header, SIGV4_ALGORITHM } from "../../auth/sigv4";
import { verifyQuerySignature } from "../../auth/sigv2";

export const EC2_MAX_SKEW_MS = 15 * 60 * 1000;

export interface Ec2HttpRequest {
  method: string;
  rawPath: string;
  /** Decoded pairs of the URL query string. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Decoded pairs of the URL query and the form body together. */
  params: ReadonlyArray<readonly [string, string]>;
  header(name: string): string | undefined;
  body: Uint8Array;
  localPort: number;
}

export interface Ec2AuthResult {
  accessKeyId: string;
  signatureVersion: "1" | "2" | "4";
}

export interface Ec2AuthDeps {
  now: Date;
  lookupSecret(accessKeyId: string): string | undefined;
  /** The SigV4 scope service this endpoint answers for (default EC2's); STS and IAM share the Query format. */
  service?: "ec2" | "sts" | "iam";
}

/**
 * Services a SigV4 scope may name here: `ec2`, and the first label of the Host,
 * which boto 2 signs with when the endpoint is not an AWS name (`127` for
 * 127.0.0.1). A scope for S3, STS or any other service is refused, so a
 * signature made for one API cannot be replayed at another.
 */
function ec2Scopes(host: string | undefined): string[] {
  const hostname = (host ?? "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const label = hostname.split(".")[0] ?? "";
  return label && label !== "s3" ? ["ec2", label] : ["ec2"];
}

export function authenticateEc2(req: Ec2HttpRequest, deps: Ec2AuthDeps): Ec2AuthResult {
  const authorization = req.header("authorization");
  if (authorization !== undefined) {
    if (!authorization.startsWith(SIGV4_ALGORITHM)) {
      throw new AuthError("unsupported", "Only AWS4-HMAC-SHA256 is accepted in the Authorization header");
    }
    const parsed = parseAuthorizationHeader(authorization);
    const service = deps.service ?? "ec2";
    const allowed = service === "ec2" ? ec2Scopes(req.header("host")) : [service];
    if (!allowed.includes(parsed.service)) {
      throw new AuthError(
        "bad-signature",
        `Credential should be scoped to correct service: '${service}' (not '${parsed.service.slice(0, 32)}')`,
      );
    }
    const payloadHash = sha256Hex(req.body);
    const claimed = req.header("x-amz-content-sha256");
    if (claimed !== undefined && !safeEqual(claimed.toLowerCase(), payloadHash)) {
      throw new AuthError("bad-signature", "x-amz-content-sha256 does not match the body");
    }
    const v = verifySigV4Header(
      { method: req.method, rawPath: req.rawPath, query: req.query, header: req.header, payloadHash },
      parsed,
      { now: deps.now, maxSkewMs: EC2_MAX_SKEW_MS, doubleEncodePath: true, lookupSecret: deps.lookupSecret },
    );
    return { accessKeyId: v.accessKeyId, signatureVersion: "4" };
  }
  const has = (n: string) => req.params.some(([k]) => k === n);
  if (has("X-Amz-Algorithm") || has("X-Amz-Signature")) {
    throw new AuthError(
      "unsupported",
      "Presigned Signature Version 4 query requests are not accepted by the EC2 API; sign the Authorization header",
    );
  }
  if (!has("AWSAccessKeyId") && !has("Signature") && !has("SignatureVersion")) {
    throw new AuthError("missing", "The request must contain a valid access key id and signature");
  }
  const v = verifyQuerySignature({
    method: req.method,
    host: req.header("host") ?? "",
    localPort: req.localPort,
    path: req.rawPath,
    params: req.params,
    now: deps.now,
    maxSkewMs: EC2_MAX_SKEW_MS,
    lookupSecret: deps.lookupSecret,
  });
  return { accessKeyId: v.accessKeyId, signatureVersion: v.version === 1 ? "1" : "2" };
}
