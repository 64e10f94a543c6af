import type { ChunkSource } from "../../server/chunk-source";
import { renderXml } from "./xml";

export type Headers = Record<string, string>;

export function xmlResponse(root: string, body: object, headers: Headers = {}, status = 200): Response {
  return new Response(renderXml(root, body), { status, headers: { "content-type": "application/xml", ...headers } });
}

export function emptyResponse(status: number, headers: Headers = {}): Response {
  return new Response(null, { status, headers });
}

/** A large object body read into the writer's own buffers (server/chunk-source.ts), straight to the Node response. */
export class ChunkReply {
  constructor(
    readonly status: number,
    readonly source: ChunkSource,
    readonly headers: Headers,
  ) {}
}

/** A small object body already in memory, written straight to the Node response. */
export class BufferReply {
  constructor(
    readonly status: number,
    readonly body: Buffer,
    readonly headers: Headers,
  ) {}
}

/** HTTP date (RFC 7231) for Last-Modified. */
export function httpDate(d: Date): string {
  return d.toUTCString();
}
