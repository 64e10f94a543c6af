/**
 * Typed domain errors. Roles and services throw these; each wire protocol maps them
 * to its own codes and HTTP statuses in one place (src/api/ec2/errors.ts, …).
 * `fault` says whose fault it is: client errors are logged at info, server errors
 * at error with the stack.
 */
export type Fault = "client" | "server";

export abstract class EucaError extends Error {
  abstract readonly kind: string;
  readonly fault: Fault = "client";
  /** Fields that survive serialization between roles (see src/rpc/errors.ts). */
  abstract toJSON(): Record<string, unknown>;
}

export class NotFoundError extends EucaError {
  readonly kind = "NotFound";
  constructor(readonly resource: string, readonly id: string) {
    super(`The ${resource} '${id}' does not exist`);
  }
  toJSON() { return { resource: this.resource, id: this.id }; }
}

export class DuplicateError extends EucaError {
  readonly kind = "Duplicate";
  constructor(readonly resource: string, readonly id: string) {
    super(`The ${resource} '${id}' already exists`);
  }
  toJSON() { return { resource: this.resource, id: this.id }; }
}

export class InvalidParameterError extends EucaError {
  readonly kind = "InvalidParameter";
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
  toJSON() { return { parameter: this.parameter, message: this.message }; }
}

export class MissingParameterError extends EucaError {
  readonly kind = "MissingParameter";
  constructor(readonly parameter: string) {
    super(`The request must contain the parameter ${parameter}`);
  }
  toJSON() { return { parameter: this.parameter }; }
}

export class AccessDeniedError extends EucaError {
  readonly kind = "AccessDenied";
  constructor(message = "You are not authorized to perform this operation.") {
    super(message);
  }
  toJSON() { return { message: this.message }; }
}

export class IncorrectStateError extends EucaError {
  readonly kind = "IncorrectState";
  constructor(message: string) { super(message); }
  toJSON() { return { message: this.message }; }
}

export class InsufficientCapacityError extends EucaError {
  readonly kind = "InsufficientCapacity";
  override readonly fault: Fault = "server";
  constructor(message: string) { super(message); }
  toJSON() { return { message: this.message }; }
}

/** The resource is still used by another (a group referenced by a rule, later by an instance). */
export class DependencyViolationError extends EucaError {
  readonly kind = "DependencyViolation";
  constructor(message: string) { super(message); }
  toJSON() { return { message: this.message }; }
}

/** A component another role depends on cannot be reached or is not ready. */
export class UnavailableError extends EucaError {
  readonly kind = "Unavailable";
  override readonly fault: Fault = "server";
  constructor(message: string) { super(message); }
  toJSON() { return { message: this.message }; }
}

export type DomainErrorKind =
  | NotFoundError["kind"] | DuplicateError["kind"] | InvalidParameterError["kind"]
  | MissingParameterError["kind"] | AccessDeniedError["kind"] | IncorrectStateError["kind"]
  | InsufficientCapacityError["kind"] | UnavailableError["kind"] | DependencyViolationError["kind"];
