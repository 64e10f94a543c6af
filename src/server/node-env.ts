import type { Context } from "hono";
import type { IncomingMessage } from "node:http";

/** The Node request behind a hono context (set by @hono/node-server as c.env.incoming). */
function incoming(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

export function localPortOf(c: Context): number {
  return incoming(c)?.socket.localPort ?? 0;
}

export function remoteAddressOf(c: Context): string | undefined {
  return incoming(c)?.socket.remoteAddress;
}
