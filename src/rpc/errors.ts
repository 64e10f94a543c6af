/** Domain errors cross the HTTP transport as JSON and are rebuilt as the same typed values. */
import {
  AccessDeniedError, DependencyViolationError, DuplicateError, EucaError, IncorrectStateError, InsufficientCapacityError,
  InvalidParameterError, MissingParameterError, NotFoundError, UnavailableError,
} from "../common/errors";
import { StorageError, type StorageCode } from "../roles/walrus/errors";

export interface WireError {
  kind: string;
  message: string;
  fields: Record<string, unknown>;
}

export function toWireError(e: EucaError): WireError {
  return { kind: e.kind, message: e.message, fields: e.toJSON() };
}

export function fromWireError(w: WireError): EucaError {
  const f = w.fields as Record<string, string>;
  switch (w.kind) {
    case "NotFound": return new NotFoundError(f.resource ?? "", f.id ?? "");
    case "Duplicate": return new DuplicateError(f.resource ?? "", f.id ?? "");
    case "InvalidParameter": return new InvalidParameterError(f.parameter ?? "", w.message);
    case "MissingParameter": return new MissingParameterError(f.parameter ?? "");
    case "AccessDenied": return new AccessDeniedError(w.message);
    case "IncorrectState": return new IncorrectStateError(w.message);
    case "DependencyViolation": return new DependencyViolationError(w.message);
    case "InsufficientCapacity": return new InsufficientCapacityError(w.message);
    case "Storage": return new StorageError(f.code as StorageCode, w.message, (w.fields.extra ?? {}) as Record<string, string>);
    default: return new UnavailableError(w.message);
  }
}
