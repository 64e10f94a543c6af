import { Writable } from "node:stream";
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

/** syslog priorities of pino's levels (trace, debug → debug; info; warn → warning; error → err; fatal → crit). */
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

/**
 * Under systemd (JOURNAL_STREAM set: stderr is the journal), each line starts with its
 * syslog priority as `<N>`, so journald files it at that priority (`journalctl -p warning`).
 */
export function journalLines(destination: NodeJS.WritableStream): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString("utf8");
      const level = Number(/"level":(\d+)/.exec(text)?.[1] ?? 30);
      destination.write(`<${PRIORITY[level] ?? 6}>${text}`, () => done());
    },
  });
}

/** One JSON line per event on the given stream (stderr by default). */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream = process.stderr): Logger {
  if (destination === process.stderr && process.env.JOURNAL_STREAM) destination = journalLines(destination);
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
