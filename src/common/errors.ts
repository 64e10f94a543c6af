/**
 * Typed domain errors. Roles and services throw these; each wire protocol maps them
 * to its own codes and HTTP statuses in one table (src/api/ec2/errors.ts,
 * src/api/s3/errors.ts) that the compiler checks covers every kind, resource and
 * reason here. ERROR_KINDS rebuilds each kind on the far side of a role-to-role call
 * (src/rpc/errors.ts), so a new role's errors survive HTTP once they are listed.
 * `fault` says whose fault it is: client errors are logged at info, server errors
 * at error with the stack.
 */

/** What a NotFound or Duplicate error is about. */
export const RESOURCES = [
  "access key of user",
  "address",
  "availability zone",
  "bucket",
  "cluster",
  "credentials of user",
  "image",
  "instance",
  "key pair",
  "node",
  "object",
  "region",
  "resource",
  "security group",
  "security group rule",
  "upload",
  "user",
  "version",
  "vm type",
  "volume",
  "snapshot",
  "vpc",
  "subnet",
  "internet gateway",
  "route table",
  "network acl",
  "account application",
  "account",
] as const;
export type Resource = (typeof RESOURCES)[number];

/** Invalid parameters that EC2 answers with a code of their own (all others are InvalidParameterValue). */
export type InvalidReason =
  | "address-limit"
  | "idempotency-mismatch"
  | "key-format"
  | "reserved-name"
  | "limit-exceeded"
  | "volume-limit"
  | "block-device-mapping";
export type Fault = "client" | "server";

export abstract class EucaError extends Error {
  abstract readonly kind: string;
  readonly fault: Fault = "client";
  /** Fields that survive serialization between roles (see src/rpc/errors.ts). */
  abstract toJSON(): Record<string, unknown>;
}

export class NotFoundError extends EucaError {
  readonly kind = "NotFound";
  constructor(
    readonly resource: Resource,
    readonly id: string,
  ) {
    super(`The ${resource} '${id}' does not exist`);
  }
  toJSON() {
    return { resource: this.resource, id: this.id };
  }
}

export class DuplicateError extends EucaError {
  readonly kind = "Duplicate";
  constructor(
    readonly resource: Resource,
    readonly id: string,
  ) {
    super(`The ${resource} '${id}' already exists`);
  }
  toJSON() {
    return { resource: this.resource, id: this.id };
  }
}

export class InvalidParameterError extends EucaError {
  readonly kind = "InvalidParameter";
  /** `parameter` names the request's parameter (EC2 spelling); `reason` picks a code of its own. */
  constructor(
    readonly parameter: string,
    message: string,
    readonly reason?: InvalidReason,
  ) {
    super(message);
  }
  toJSON() {
    return { parameter: this.parameter, message: this.message, ...(this.reason ? { reason: this.reason } : {}) };
  }
}

export class MissingParameterError extends EucaError {
  readonly kind = "MissingParameter";
  constructor(readonly parameter: string) {
    super(`The request must contain the parameter ${parameter}`);
  }
  toJSON() {
    return { parameter: this.parameter };
  }
}

export class AccessDeniedError extends EucaError {
  readonly kind = "AccessDenied";
  constructor(message = "You are not authorized to perform this operation.") {
    super(message);
  }
  toJSON() {
    return { message: this.message };
  }
}

/** States EC2 answers with a code of their own (others are IncorrectState). */
export const STATE_REASONS = [
  "volume-in-use",
  "instance",
  "snapshot-in-use",
  "address-in-use",
  "termination-protected",
] as const;
export type StateReason = (typeof STATE_REASONS)[number];

export class IncorrectStateError extends EucaError {
  readonly kind = "IncorrectState";
  constructor(
    message: string,
    readonly reason?: StateReason,
  ) {
    super(message);
  }
  toJSON() {
    return { message: this.message, reason: this.reason };
  }
}

export class InsufficientCapacityError extends EucaError {
  readonly kind = "InsufficientCapacity";
  override readonly fault: Fault = "server";
  /** What ran out: room for instances, or (an SC's) for volumes. */
  constructor(
    message: string,
    readonly of: "instances" | "volumes" = "instances",
  ) {
    super(message);
  }
  toJSON() {
    return { message: this.message, of: this.of };
  }
}

/** The resource is still used by another (a group referenced by a rule, later by an instance). */
export class DependencyViolationError extends EucaError {
  readonly kind = "DependencyViolation";
  constructor(message: string) {
    super(message);
  }
  toJSON() {
    return { message: this.message };
  }
}

/** A component another role depends on cannot be reached or is not ready. */
export class UnavailableError extends EucaError {
  readonly kind = "Unavailable";
  override readonly fault: Fault = "server";
  constructor(message: string) {
    super(message);
  }
  toJSON() {
    return { message: this.message };
  }
}

/** What this cloud's configuration does not offer (elastic addresses in SYSTEM and STATIC). */
export class UnsupportedError extends EucaError {
  readonly kind = "Unsupported";
  constructor(message: string) {
    super(message);
  }
  toJSON() {
    return { message: this.message };
  }
}

export type StorageCode =
  | "BucketAlreadyExists"
  | "BucketAlreadyOwnedByYou"
  | "BucketNotEmpty"
  | "InvalidBucketName"
  | "TooManyBuckets"
  | "KeyTooLongError"
  | "BadDigest"
  | "InvalidDigest"
  | "IncompleteBody"
  | "EntityTooSmall"
  | "EntityTooLarge"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "InvalidRange"
  | "PreconditionFailed"
  | "NotModified"
  | "InvalidArgument"
  | "MalformedXML"
  | "MalformedACLError"
  | "InvalidRequest"
  | "QuotaExceeded"
  | "XAmzContentSHA256Mismatch"
  | "MethodNotAllowed"
  | "BadRequest"
  | "InvalidTag"
  | "NoSuchTagSet"
  | "NoSuchCORSConfiguration"
  | "NoSuchBucketPolicy"
  | "NoSuchLifecycleConfiguration"
  | "MalformedPolicy"
  | "InvalidLocationConstraint"
  | "IllegalLocationConstraintException"
  | "NotImplemented";

/**
 * Storage conditions that have no general domain error. The codes are S3's own names
 * (kept verbatim so the S3 docs find them); api/s3/errors.ts gives each its status.
 * `extra` holds S3 error-body fields (ArgumentName, Condition, …).
 */
export class StorageError extends EucaError {
  readonly kind = "Storage";
  /** `deleteMarker`: the version id of the delete marker the request ran into, when it did. */
  constructor(
    readonly code: StorageCode,
    message: string,
    readonly extra: Record<string, string> = {},
    readonly deleteMarker?: string,
  ) {
    super(message);
  }
  toJSON() {
    return {
      code: this.code,
      message: this.message,
      extra: this.extra,
      ...(this.deleteMarker ? { deleteMarker: this.deleteMarker } : {}),
    };
  }
}

export type DomainError =
  | NotFoundError
  | DuplicateError
  | InvalidParameterError
  | MissingParameterError
  | AccessDeniedError
  | IncorrectStateError
  | InsufficientCapacityError
  | UnavailableError
  | DependencyViolationError
  | UnsupportedError
  | StorageError;
export type DomainErrorKind = DomainError["kind"];

const str = (v: unknown) => (typeof v === "string" ? v : "");
const oneOf = <T extends string>(values: readonly T[], v: unknown, fallback: T): T =>
  values.includes(v as T) ? (v as T) : fallback;

/** Each kind rebuilt from what toJSON() wrote (and its message): the registry role-to-role calls decode with. */
export const ERROR_KINDS: {
  [K in DomainErrorKind]: (message: string, f: Record<string, unknown>) => Extract<DomainError, { kind: K }>;
} = {
  NotFound: (_m, f) => new NotFoundError(oneOf(RESOURCES, f.resource, "object"), str(f.id)),
  Duplicate: (_m, f) => new DuplicateError(oneOf(RESOURCES, f.resource, "object"), str(f.id)),
  InvalidParameter: (m, f) => new InvalidParameterError(str(f.parameter), m, f.reason as InvalidReason | undefined),
  MissingParameter: (_m, f) => new MissingParameterError(str(f.parameter)),
  AccessDenied: (m) => new AccessDeniedError(m),
  IncorrectState: (m, f) =>
    new IncorrectStateError(
      m,
      (STATE_REASONS as readonly unknown[]).includes(f.reason) ? (f.reason as StateReason) : undefined,
    ),
  InsufficientCapacity: (m, f) => new InsufficientCapacityError(m, f.of === "volumes" ? "volumes" : "instances"),
  Unavailable: (m) => new UnavailableError(m),
  DependencyViolation: (m) => new DependencyViolationError(m),
  Unsupported: (m) => new UnsupportedError(m),
  Storage: (m, f) =>
    new StorageError(
      f.code as StorageCode,
      m,
      (f.extra ?? {}) as Record<string, string>,
      typeof f.deleteMarker === "string" ? f.deleteMarker : undefined,
    ),
};
