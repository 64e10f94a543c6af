/**
 * What happens to the body of a request that was answered before its body was read
 * (refused: no such bucket, access denied, too large, unsigned internal call). The
 * body is never buffered: every consumer is detached and destroyed, and the rest is
 * read and thrown away up to a bound (so the client, still sending, sees our answer
 * rather than a reset, and the connection can serve its next request); past the
 * bound the socket is destroyed. (@hono/node-server drains a body no one touched
 * in the same way; this is for bodies a handler had started to decode.)
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";

/** How much of a refused body we read and discard before cutting the connection. */
export const DISCARD_LIMIT = 64 * 1024 * 1024;

const ignore = () => undefined;

/** A stream that is set up before a request is decided must never crash the process with an unhandled 'error'. */
export function guardStream<T extends Readable>(s: T): T {
  s.on("error", ignore);
  return s;
}

/** True when the request's body has not been read to its end (it may have arrived and wait in the stream's buffer). */
function bodyUnread(req: IncomingMessage): boolean {
  return !req.readableEnded && !req.destroyed;
}

/**
 * Detaches and destroys `consumers` (decoders, hashers piped from the request) and
 * discards what is left of the body.
 */
export function discardUnreadBody(
  req: IncomingMessage,
  consumers: readonly Readable[] = [],
  limit = DISCARD_LIMIT,
): void {
  for (const c of consumers) {
    if ((c as unknown) === req) continue; // the body itself, undecoded: discarded below
    guardStream(c);
    req.unpipe(c as unknown as NodeJS.WritableStream);
    if (!c.destroyed) c.destroy();
  }
  if (!bodyUnread(req)) return;
  req.unpipe();
  req.on("error", ignore);
  let discarded = 0;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit) req.socket?.destroy();
  });
  req.resume();
}
