/**
 * Walrus' internal routes for components in other processes: the WalrusClient
 * operations over HTTP, signed like every internal call (SigV4 `euca-internal`,
 * nonce, request id; verified from the headers before any body is read, then the
 * body's SHA-256 checked while it streams).
 */
import { Hono, type Context } from "hono";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { EucaError, StorageError } from "../../common/errors";
import { AuthError } from "../../auth/errors";
import { MalformedQueryError, parseFormPairs } from "../../server/form";
import { ReplayCache } from "../../rpc/replay-cache";
import { bodyMatches, verifyInternalHeaders, HEADER_REQUEST_ID } from "../../rpc/signing";
import { BodyTooLargeError, readBodyLimited } from "../../server/body";
import { MAX_SINGLE_PUT } from "./objects";
import { toWireError } from "../../rpc/errors";
import type { ComponentKeyLookup } from "../../rpc/types";
import type { WalrusClient } from "./client";

export const WALRUS_INTERNAL = "/internal/walrus";

/** Verifies the body's SHA-256 (signed in x-amz-content-sha256) and its declared size as it streams. */
function signedBodyCheck(expected: string, size: number): Transform {
  const h = createHash("sha256");
  let seen = 0;
  return new Transform({
    transform(c: Buffer, _e, cb) {
      seen += c.length;
      if (seen > size) return cb(new StorageError("IncompleteBody", `The body is longer than its declared size (${size} bytes)`));
      h.update(c);
      cb(null, c);
    },
    flush(cb) {
      cb(h.digest("hex") === expected ? null : new AuthError("bad-signature", "Body does not match its signed hash"));
    },
  });
}

/** Bodies of the non-streamed operations are empty; this bounds what a signed caller may send. */
const MAX_SMALL_BODY = 64 * 1024;

export function createWalrusInternalApp(o: { walrus: WalrusClient; lookupKey: ComponentKeyLookup; clock: Clock; log: Logger }): Hono {
  const app = new Hono();
  const replay = new ReplayCache();
  app.all(`${WALRUS_INTERNAL}/:op`, async (c: Context) => {
    const { incoming, outgoing } = c.env as { incoming: IncomingMessage; outgoing: ServerResponse };
    const url = new URL(c.req.url);
    const requestId = c.req.header(HEADER_REQUEST_ID) ?? "";
    const op = c.req.param("op");
    try {
      // Authenticated from the headers before a byte of the body is read; the body is then checked against the signed hash.
      const { payloadHash } = verifyInternalHeaders(
        { method: c.req.method, rawPath: url.pathname, query: parseFormPairs(url.search.slice(1)), header: (n) => c.req.header(n) },
        o.lookupKey, replay, o.clock.now(),
      );
      if (op !== "putObject" && !bodyMatches(await readBodyLimited(c.req.raw, MAX_SMALL_BODY), payloadHash)) {
        throw new AuthError("bad-signature", "Body does not match its signed hash");
      }
      const q = Object.fromEntries(url.searchParams);
      const ref = { bucket: q.bucket ?? "", key: q.key ?? "", versionId: q.versionId };
      const ctx = { requestId };
      switch (op) {
        case "headObject": return c.json({ result: await o.walrus.headObject(ref, ctx) });
        case "getObject": {
          const { body: stream, ...info } = await o.walrus.getObject(ref, ctx);
          outgoing.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(info.size), "x-euca-object": JSON.stringify(info) });
          pipeline(stream, outgoing).catch(() => undefined);
          return new Response(null, { headers: { "x-hono-already-sent": "true" } });
        }
        case "putObject": {
          const size = Number(q.size);
          if (!/^\d{1,13}$/.test(q.size ?? "") || size > MAX_SINGLE_PUT) throw new StorageError("InvalidArgument", `size must be an integer of at most ${MAX_SINGLE_PUT} bytes`);
          const check = signedBodyCheck(payloadHash, size);
          incoming.on("error", (e) => check.destroy(e));
          const r = await o.walrus.putObject(ref, { open: () => incoming.pipe(check), size, contentType: q.contentType }, ctx);
          return c.json({ result: r });
        }
        case "deleteObject": return c.json({ result: await o.walrus.deleteObject(ref, ctx) ?? null });
        case "ensureBucket": return c.json({ result: await o.walrus.ensureBucket(ref.bucket, ctx) ?? null });
        case "getDecryptedImage": {
          const img = await o.walrus.getDecryptedImage(ref, ctx);
          outgoing.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(img.size) });
          pipeline(img.body, outgoing).catch(() => undefined);
          return new Response(null, { headers: { "x-hono-already-sent": "true" } });
        }
        case "bucketOwner": return c.json({ result: await o.walrus.bucketOwner(ref.bucket, ctx) });
        default: return c.json({ error: { kind: "UnknownMethod", message: `No method '${op}' on walrus` } }, 404);
      }
    } catch (e) {
      if (e instanceof BodyTooLargeError) return c.json({ error: { kind: "TooLarge", message: e.message } }, 413);
      if (e instanceof MalformedQueryError) return c.json({ error: { kind: "BadRequest", message: e.message } }, 400);
      if (e instanceof AuthError) return c.json({ error: { kind: "AuthFailure", reason: e.reason, message: e.message } }, 401);
      if (e instanceof EucaError) return c.json({ error: toWireError(e) }, e.fault === "client" ? 400 : 503);
      o.log.error({ requestId, err: e }, "walrus internal call failed");
      return c.json({ error: { kind: "Internal", message: "Internal error" } }, 500);
    }
  });
  return app;
}
