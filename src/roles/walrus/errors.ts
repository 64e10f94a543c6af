/**
 * Storage conditions that have no general domain error. The codes are S3's own
 * names (kept verbatim so the S3 docs find them); api/s3/errors.ts gives each its
 * HTTP status.
 */
import { EucaError } from "../../common/errors";

export type StorageCode =
  | "BucketAlreadyExists" | "BucketAlreadyOwnedByYou" | "BucketNotEmpty" | "InvalidBucketName" | "TooManyBuckets"
  | "KeyTooLongError" | "BadDigest" | "InvalidDigest" | "IncompleteBody" | "EntityTooSmall" | "EntityTooLarge"
  | "InvalidPart" | "InvalidPartOrder" | "InvalidRange" | "PreconditionFailed" | "NotModified"
  | "InvalidArgument" | "MalformedXML" | "MalformedACLError" | "InvalidRequest" | "QuotaExceeded"
  | "XAmzContentSHA256Mismatch" | "MethodNotAllowed";

export class StorageError extends EucaError {
  readonly kind = "Storage";
  constructor(readonly code: StorageCode, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
  toJSON() { return { code: this.code, message: this.message, extra: this.extra }; }
}
