/**
 * The one S3 error table: code → HTTP status, and the mapping of domain errors.
 * Anything unmapped is InternalError (500) with a fixed message; details go to the log.
 */
import { EucaError, type DomainError, type Resource, type StorageCode } from "../../common/errors";
import { ChunkedDecodeError } from "../../auth/aws-chunked";
import { S3Error } from "./s3-error";
import { S3_ERRORS, type S3Code } from "./codes";

export { S3_ERRORS, type S3Code } from "./codes";

/** Every storage condition Walrus raises has its status here (the compiler checks). */
const STORAGE_STATUS: Record<StorageCode, number> = S3_ERRORS;

export interface S3ErrorReply {
  code: string;
  message: string;
  status: number;
  /** Fields of the XML error body (ArgumentName, Condition, …). */
  extra: Record<string, string>;
  /** Response headers the error carries (a delete marker's, Content-Range of a 416). */
  headers: Record<string, string>;
  fault: "client" | "server";
}

/** Role parameters (semantic names) as S3 names them in ArgumentName. */
const ARGUMENT_NAMES: Record<string, string> = { copySourceRange: "x-amz-copy-source-range", acl: "x-amz-acl" };

/** NotFound on S3 paths: the S3 code, its message and the field naming what was missing. */
const NOT_FOUND: Partial<Record<Resource, { code: S3Code; message: string; field: string }>> = {
  bucket: { code: "NoSuchBucket", message: "The specified bucket does not exist", field: "BucketName" },
  object: { code: "NoSuchKey", message: "The specified key does not exist.", field: "Key" },
  upload: {
    code: "NoSuchUpload",
    field: "UploadId",
    message:
      "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.",
  },
  version: { code: "NoSuchVersion", message: "The specified version does not exist.", field: "VersionId" },
};

function reply(
  code: S3Code,
  message: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): S3ErrorReply {
  const status: number = S3_ERRORS[code];
  if (code === "InvalidRange" && extra.ActualObjectSize)
    headers = { ...headers, "content-range": `bytes */${extra.ActualObjectSize}` };
  return { code, message, status, extra, headers, fault: status >= 500 ? "server" : "client" };
}

const INTERNAL: S3ErrorReply = {
  code: "InternalError",
  message: "We encountered an internal error. Please try again.",
  status: 500,
  extra: {},
  headers: {},
  fault: "server",
};

/** The S3 answer to every domain error kind (exhaustive: a new kind does not compile until it is here). */
function domainReply(e: DomainError): S3ErrorReply {
  switch (e.kind) {
    case "Storage": {
      const headers: Record<string, string> = e.deleteMarker
        ? { "x-amz-delete-marker": "true", "x-amz-version-id": e.deleteMarker }
        : {};
      return { ...reply(e.code, e.message, e.extra, headers), status: STORAGE_STATUS[e.code] };
    }
    case "NotFound": {
      const nf = NOT_FOUND[e.resource] ?? NOT_FOUND.object!;
      return reply(nf.code, nf.message, { [nf.field]: e.id });
    }
    case "AccessDenied":
      return reply("AccessDenied", e.message);
    case "InvalidParameter":
      return reply(
        "InvalidArgument",
        e.message,
        Object.hasOwn(ARGUMENT_NAMES, e.parameter) ? { ArgumentName: ARGUMENT_NAMES[e.parameter]! } : {},
      );
    case "MissingParameter":
      return reply("InvalidRequest", e.message);
    case "Unavailable":
      return reply("ServiceUnavailable", e.message);
    case "Unsupported":
      return reply("NotImplemented", e.message);
    // Not raised on S3 paths; should one escape, it is ours to look into.
    case "Duplicate":
    case "IncorrectState":
    case "DependencyViolation":
    case "InsufficientCapacity":
      return INTERNAL;
    default: {
      const unmapped: never = e;
      return unmapped;
    }
  }
}

export function toS3Error(e: unknown): S3ErrorReply {
  if (e instanceof S3Error) return reply(e.code, e.message, e.extra);
  if (e instanceof ChunkedDecodeError) {
    return e.kind === "signature" ? reply("SignatureDoesNotMatch", e.message) : reply("IncompleteBody", e.message);
  }
  if (e instanceof EucaError) return domainReply(e as DomainError);
  // A client that went away mid-body: not our fault, and nothing was stored.
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (
    code === "ECONNRESET" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    (e as Error | undefined)?.message === "aborted"
  ) {
    return reply("IncompleteBody", "The request body ended before the declared Content-Length");
  }
  return INTERNAL;
}
