/**
 * The one S3 error table: code → HTTP status, and the mapping of domain errors.
 * Anything unmapped is InternalError (500) with a fixed message; details go to the log.
 */
import { EucaError } from "../../common/errors";
import { StorageError } from "../../roles/walrus/errors";
import { ChunkedDecodeError } from "../../auth/aws-chunked";
import { S3Error } from "./s3-error";

export const S3_ERRORS: Record<string, number> = {
  AccessDenied: 403, AuthorizationHeaderMalformed: 400, AuthorizationQueryParametersError: 400, BadDigest: 400,
  BucketAlreadyExists: 409, BucketAlreadyOwnedByYou: 409, BucketNotEmpty: 409, EntityTooLarge: 400, EntityTooSmall: 400,
  IncompleteBody: 400, InternalError: 500, InvalidAccessKeyId: 403, InvalidArgument: 400, InvalidBucketName: 400,
  InvalidDigest: 400, InvalidPart: 400, InvalidPartOrder: 400, InvalidRange: 416, InvalidRequest: 400, KeyTooLongError: 400,
  MalformedACLError: 400, MalformedPOSTRequest: 400, MalformedXML: 400, MethodNotAllowed: 405, MissingContentLength: 411,
  MissingRequestBodyError: 400, NoSuchBucket: 404, NoSuchKey: 404, NoSuchUpload: 404, NoSuchVersion: 404, NotImplemented: 501,
  NotModified: 304, PreconditionFailed: 412, QuotaExceeded: 403, RequestTimeTooSkewed: 403, ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403, TooManyBuckets: 400, UnresolvableGrantByEmailAddress: 400, InvalidURI: 400, UnexpectedContent: 400, XAmzContentSHA256Mismatch: 400, EntityTooLargeRequest: 413,
};

export interface S3ErrorReply {
  code: string;
  message: string;
  status: number;
  extra: Record<string, string>;
  fault: "client" | "server";
}

const NOT_FOUND: Record<string, string> = { bucket: "NoSuchBucket", object: "NoSuchKey", upload: "NoSuchUpload", version: "NoSuchVersion" };

function reply(code: string, message: string, extra: Record<string, string> = {}): S3ErrorReply {
  const status = S3_ERRORS[code] ?? 400;
  return { code, message, status, extra, fault: status >= 500 ? "server" : "client" };
}

export function toS3Error(e: unknown): S3ErrorReply {
  if (e instanceof S3Error) return reply(e.code, e.message, e.extra);
  if (e instanceof StorageError) return reply(e.code, e.message, e.extra);
  if (e instanceof ChunkedDecodeError) {
    return e.kind === "signature" ? reply("SignatureDoesNotMatch", e.message) : reply("IncompleteBody", e.message);
  }
  if (e instanceof EucaError) {
    switch (e.kind) {
      case "NotFound": {
        const resource = (e as unknown as { resource: string }).resource;
        const code = NOT_FOUND[resource] ?? "NoSuchKey";
        const id = (e as unknown as { id: string }).id;
        const messages: Record<string, string> = {
          NoSuchBucket: "The specified bucket does not exist", NoSuchKey: "The specified key does not exist.",
          NoSuchUpload: "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
          NoSuchVersion: "The specified version does not exist.",
        };
        const field = { NoSuchBucket: "BucketName", NoSuchKey: "Key", NoSuchUpload: "UploadId", NoSuchVersion: "VersionId" }[code]!;
        return reply(code, messages[code]!, { [field]: id });
      }
      case "AccessDenied": return reply("AccessDenied", e.message);
      case "InvalidParameter": return reply("InvalidArgument", e.message);
      case "MissingParameter": return reply("InvalidRequest", e.message);
      case "Unavailable": return reply("ServiceUnavailable", e.message);
    }
  }
  // A client that went away mid-body: not our fault, and nothing was stored.
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (e as Error | undefined)?.message === "aborted") {
    return reply("IncompleteBody", "The request body ended before the declared Content-Length");
  }
  return { code: "InternalError", message: "We encountered an internal error. Please try again.", status: 500, extra: {}, fault: "server" };
}
