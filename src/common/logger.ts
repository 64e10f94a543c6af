import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths that must never reach a log line, whatever a caller passes in: secrets,
 * signatures and credentials headers.
 */
const REDACT = [
  "secret",
  "secretKey",
  "secretAccessKey",
  "password",
  "signature",
  "authorization",
  "*.secret",
  "*.secretKey",
  "*.secretAccessKey",
  "*.password",
  "*.signature",
  "*.authorization",
  "headers.authorization",
  'headers["x-amz-security-token"]',
];

/** One JSON line per event on the given stream (stderr by default). */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level: level as LevelWithSilent,
      base: { service: "euca" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: "[redacted]" },
    },
    destination,
  );
}
