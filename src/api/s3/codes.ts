/** Every S3 error code euca answers with, and its HTTP status. */
export const S3_ERRORS = {
  AccessDenied: 403, AuthorizationHeaderMalformed: 400, AuthorizationQueryParametersError: 400, BadDigest: 400,
  BucketAlreadyExists: 409, BucketAlreadyOwnedByYou: 409, BucketNotEmpty: 409, EntityTooLarge: 400, EntityTooSmall: 400,
  IncompleteBody: 400, InternalError: 500, InvalidAccessKeyId: 403, InvalidArgument: 400, InvalidBucketName: 400,
  InvalidDigest: 400, InvalidPart: 400, InvalidPartOrder: 400, InvalidRange: 416, InvalidRequest: 400, KeyTooLongError: 400,
  MalformedACLError: 400, MalformedPOSTRequest: 400, MalformedXML: 400, MethodNotAllowed: 405, MissingContentLength: 411,
  MissingRequestBodyError: 400, NoSuchBucket: 404, NoSuchKey: 404, NoSuchUpload: 404, NoSuchVersion: 404, NotImplemented: 501,
  NotModified: 304, PreconditionFailed: 412, QuotaExceeded: 403, RequestTimeTooSkewed: 403, ServiceUnavailable: 503,
  SignatureDoesNotMatch: 403, TooManyBuckets: 400, UnresolvableGrantByEmailAddress: 400, InvalidURI: 400, UnexpectedContent: 400,
  XAmzContentSHA256Mismatch: 400, EntityTooLargeRequest: 413, BadRequest: 400, InvalidTag: 400, NoSuchTagSet: 404,
  NoSuchCORSConfiguration: 404, NoSuchBucketPolicy: 404, NoSuchLifecycleConfiguration: 404, MalformedPolicy: 400,
  InvalidLocationConstraint: 400, IllegalLocationConstraintException: 400, AccessForbidden: 403, ExpectationFailed: 417,
  InvalidPolicyDocument: 400,
} as const satisfies Record<string, number>;

export type S3Code = keyof typeof S3_ERRORS;
