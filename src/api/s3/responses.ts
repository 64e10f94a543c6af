import type { Readable } from "node:stream";
import { renderXml } from "./xml";

export type Headers = Record<string, string>;

export function xmlResponse(root: string, body: object, headers: Headers = {}, status = 200): Response {
  return new Response(renderXml(root, body), { status, headers: { "content-type": "application/xml", ...headers } });
}

export function emptyResponse(status: number, headers: Headers = {}): Response {
  return new Response(null, { status, headers });
}

/**
 * An object body to stream straight into the Node response (no web-stream
 * conversion: it halves GET throughput and buffers more memory).
 */
export class StreamReply {
  constructor(readonly status: number, readonly stream: Readable, readonly headers: Headers) {}
}

export function streamResponse(status: number, stream: Readable, headers: Headers): StreamReply {
  return new StreamReply(status, stream, headers);
}

/** A small object body already in memory, written straight to the Node response. */
export class BufferReply {
  constructor(readonly status: number, readonly body: Buffer, readonly headers: Headers) {}
}

/** HTTP date (RFC 7231) for Last-Modified. */
export function httpDate(d: Date): string {
  return d.toUTCString();
}
