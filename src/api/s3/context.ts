/** What an S3 handler gets: the request, who is asking, and the Walrus service. */
import type { Readable } from "node:stream";
import type { Requester } from "../../roles/walrus/acl";
import type { WalrusService } from "../../roles/walrus/service";
import type { S3Auth } from "./auth";
import { decodeBody, type DecodedBody } from "./body";
import { S3Error } from "./s3-error";

export interface S3Context {
  requestId: string;
  method: string;
  resource: string;
  requester: Requester;
  auth: S3Auth;
  query: ReadonlyMap<string, string>;
  header(name: string): string | undefined;
  /** Names of all request headers, lower case. */
  headerNames: readonly string[];
  walrus: WalrusService;
  /** Display name of an account (for Owner elements). */
  displayName(accountId: string): string;
  /** The decoded, verified body stream (call once). */
  body(): DecodedBody;
  /** A small XML body as text (at most `limit` bytes). */
  text(limit?: number): Promise<string>;
}

export function makeBodyReaders(raw: Readable, auth: S3Auth, header: (n: string) => string | undefined) {
  let used = false;
  const body = (): DecodedBody => {
    if (used) throw new Error("request body read twice");
    used = true;
    return decodeBody(raw, auth.body, header);
  };
  const text = async (limit = 1024 * 1024): Promise<string> => {
    const { stream } = body();
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > limit) throw new S3Error("MalformedXML", `The XML body is larger than ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  };
  return { body, text };
}
