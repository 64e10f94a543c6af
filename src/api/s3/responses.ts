import { Readable } from "node:stream";
import { renderXml } from "./xml";

export type Headers = Record<string, string>;

export function xmlResponse(root: string, body: object, headers: Headers = {}, status = 200): Response {
  return new Response(renderXml(root, body), { status, headers: { "content-type": "application/xml", ...headers } });
}

export function emptyResponse(status: number, headers: Headers = {}): Response {
  return new Response(null, { status, headers });
}

export function streamResponse(status: number, stream: Readable, headers: Headers): Response {
  return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
}

/** HTTP date (RFC 7231) for Last-Modified. */
export function httpDate(d: Date): string {
  return d.toUTCString();
}
