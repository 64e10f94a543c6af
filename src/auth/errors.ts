/**
 * Why a signed request was refused. Each protocol maps a reason to its own wire
 * code (EC2: AuthFailure, RequestExpired, …; S3: SignatureDoesNotMatch, …).
 */
export type AuthFailureReason =
  | "missing" // no credentials at all
  | "incomplete" // some signing fields present, others missing or malformed
  | "unknown-key" // access key id not on record (or disabled)
  | "bad-signature" // signature does not match
  | "expired" // outside the clock-skew window, or past Expires
  | "replayed" // nonce seen before (internal calls)
  | "unsupported"; // SignatureVersion / algorithm we do not accept

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
  }
}
