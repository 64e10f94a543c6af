/** Domain errors cross the HTTP transport as JSON and are rebuilt, by kind, through the one registry (common/errors.ts). */
import { ERROR_KINDS, EucaError, UnavailableError, type DomainErrorKind } from "../common/errors";

export interface WireError {
  kind: string;
  message: string;
  fields: Record<string, unknown>;
}

export function toWireError(e: EucaError): WireError {
  return { kind: e.kind, message: e.message, fields: e.toJSON() };
}

/** A kind this build does not know (a newer peer) arrives as Unavailable, with its message. */
export function fromWireError(w: WireError): EucaError {
  if (!Object.hasOwn(ERROR_KINDS, w.kind)) return new UnavailableError(w.message);
  return ERROR_KINDS[w.kind as DomainErrorKind](w.message, w.fields ?? {});
}
