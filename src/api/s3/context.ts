/** What an S3 handler gets: the request, who is asking, and the Walrus service. */
import type { IncomingMessage } from "node:http";
import { discardUnreadBody } from "../../server/unread-body";
import type { Requester } from "../../roles/walrus/acl";
import { Readable } from "node:stream";
import type { WalrusOperations } from "../../roles/walrus/service";
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
  /** The Walrus operations as this request sees them (its facts feed bucket-policy conditions). */
  walrus: WalrusOperations;
  /** Display name of an account (for Owner elements). */
  displayName(accountId: string): string;
  /** The decoded, verified body stream (call once). */
  body(): DecodedBody;
  /** A small body's bytes (at most `limit`, else MalformedXML). */
  bytes(limit?: number): Promise<Buffer>;
  /** A small XML body as text (at most `limit` bytes). */
  text(limit?: number): Promise<string>;
  /** Whether an account id names an account of this cloud. */
  accountExists(accountId: string): boolean;
}

export interface BodyReaders {
  body(): DecodedBody;
  bytes(limit?: number): Promise<Buffer>;
  text(limit?: number): Promise<string>;
}

/**
 * The request body, decoded on first use. `dispose` runs after every request: what
 * was not read (a refused request) is detached, destroyed and discarded, never
 * buffered.
 */
export function makeBodyReaders(
  raw: IncomingMessage,
  header: (n: string) => string | undefined,
  sendContinue?: () => void,
) {
  let auth: S3Auth | undefined;
  let decoded: DecodedBody | undefined;
  let inner: Readable | undefined;
  const body = (): DecodedBody => {
    if (decoded) throw new Error("request body read twice");
    if (!auth) throw new Error("request body read before authentication");
    decoded = decodeBody(raw, auth.body, header);
    inner = decoded.stream;
    // A client waiting for 100 Continue is told to send when the service first reads: after every check it makes.
    if (sendContinue) decoded = { ...decoded, stream: onFirstRead(inner, sendContinue) };
    return decoded;
  };
  // Read by listening, not by for-await: leaving a for-await early destroys the stream, and with it the
  // connection, before the error can be answered. Past the limit, the rest is left to dispose().
  const bytes = (limit = 1024 * 1024): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const { stream } = body();
      const chunks: Buffer[] = [];
      let total = 0;
      const done = (fn: () => void) => {
        stream.off("data", onData).off("end", onEnd).off("error", onError);
        fn();
      };
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total > limit) {
          stream.pause();
          done(() => reject(new S3Error("MalformedXML", `The XML body is larger than ${limit} bytes`)));
        } else chunks.push(chunk);
      };
      const onEnd = () => done(() => resolve(Buffer.concat(chunks)));
      const onError = (e: Error) => done(() => reject(e));
      stream.on("data", onData).on("end", onEnd).on("error", onError);
    });
  const text = async (limit?: number): Promise<string> => (await bytes(limit)).toString("utf8");
  return {
    readers: { body, bytes, text } as BodyReaders,
    /** Whether the body was asked for (so a refused request that awaited 100 Continue has sent nothing). */
    started: () => decoded !== undefined,
    /** The body may be read once the request is authenticated (or found anonymous). */
    authenticated(a: S3Auth) {
      auth = a;
    },
    dispose: () => {
      // A request that declared no body (most GETs and HEADs) has nothing to discard.
      if (!decoded && header("transfer-encoding") === undefined && Number(header("content-length") ?? "0") === 0)
        return;
      discardUnreadBody(raw, decoded ? [decoded.stream, inner!] : []);
    },
  };
}

/** `src`, calling `fn` when a consumer first asks for data. Destroying it detaches from `src` (whose owner disposes of it). */
function onFirstRead(src: Readable, fn: () => void): Readable {
  let started = false;
  const onData = (chunk: Buffer) => {
    if (!out.push(chunk)) src.pause();
  };
  const onEnd = () => out.push(null);
  const onError = (e: Error) => out.destroy(e);
  const out: Readable = new Readable({
    read() {
      if (started) {
        src.resume();
        return;
      }
      started = true;
      fn();
      src.on("data", onData).on("end", onEnd).on("error", onError);
    },
    destroy(err, cb) {
      src.off("data", onData).off("end", onEnd).off("error", onError);
      cb(err);
    },
  });
  return out;
}
