/**
 * The one log line every API request gets: request id, api, action, status, time and
 * who asked (plus what the protocol adds). A server fault is logged at error with
 * its cause; everything else at info. Secrets never appear here.
 */
import type { Logger } from "pino";

export interface RequestLine {
  requestId: string;
  api: "ec2" | "s3" | "internal" | "join" | "metadata" | "sts" | "iam" | "web";
  action: string | null;
  status: number;
  /** performance.now() when the request arrived. */
  started: number;
  user: string | null;
  [extra: string]: unknown;
}

export function logRequest(
  log: Logger,
  line: RequestLine,
  fault?: { code: string; fault: string; err?: unknown },
): void {
  const { started, ...rest } = line;
  const fields = { ...rest, ms: Math.round(performance.now() - started), ...(fault ? { error: fault.code } : {}) };
  if (fault?.fault === "server") log.error({ ...fields, err: fault.err }, "request");
  else log.info(fields, "request");
}
