/**
 * What the web interface tells a person when an action fails: the domain error's own
 * message (written for people already), with the HTTP status of its kind. The table
 * is exhaustive over the kinds, so a new one does not compile until it is here.
 * Anything else is an internal fault: its details go to the log, never to the page.
 */
import { EucaError, type DomainError, type DomainErrorKind } from "../../common/errors";

const STATUS: Record<DomainErrorKind, 400 | 403 | 404 | 409 | 500 | 503> = {
  NotFound: 404,
  Duplicate: 409,
  InvalidParameter: 400,
  MissingParameter: 400,
  AccessDenied: 403,
  IncorrectState: 409,
  InsufficientCapacity: 503,
  DependencyViolation: 409,
  Unavailable: 503,
  Unsupported: 400,
  Storage: 400,
};

export interface WebErrorReply {
  status: 400 | 403 | 404 | 409 | 500 | 503;
  message: string;
  fault: "client" | "server";
}

export function toWebError(e: unknown, requestId: string): WebErrorReply {
  if (e instanceof EucaError) {
    const d = e as DomainError;
    return { status: STATUS[d.kind], message: d.message, fault: d.fault };
  }
  return {
    status: 500,
    message: `Something went wrong on the server (request ${requestId}); the administrator can find it in the log.`,
    fault: "server",
  };
}
