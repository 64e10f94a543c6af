/**
 * The S3 front door: route (pure), authenticate, dispatch with one exhaustive
 * switch, render S3 XML or the S3 error body. `x-amz-request-id` on every response,
 * one JSON log line per request.
 */
import { Hono, type Context } from "hono";
import type { Logger } from "pino";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import type { KeyLookup } from "../../roles/clc/identity/identity-service";
import type { WalrusService } from "../../roles/walrus/service";
import type { Requester } from "../../roles/walrus/acl";
import { parseFormPairs, MalformedQueryError } from "../../server/form";
import { routeS3, type S3Operation } from "./router";
import { authenticateS3, type S3Auth } from "./auth";
import { makeBodyReaders, type S3Context } from "./context";
import { toS3Error } from "./errors";
import { renderS3Error } from "./xml";
import { S3Error } from "./s3-error";
import { BufferReply, ChunkReply } from "./responses";
import { writeChunks } from "../../server/chunk-source";
import * as buckets from "./handlers/buckets";
import * as objects from "./handlers/objects";
import * as listing from "./handlers/listing";
import * as multipart from "./handlers/multipart";
import * as acl from "./handlers/acl";
import * as tagging from "./handlers/tagging";
import * as cors from "./handlers/cors";
import * as policy from "./handlers/policy";
import * as lifecycle from "./handlers/lifecycle";
import { postObject } from "./handlers/post-object";
import { logRequest } from "../../server/request-log";
import { awaitsContinue } from "../../server/expect-continue";
import type { RequestFacts } from "../../roles/walrus/policy";

export interface S3AppDeps {
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  walrus: WalrusService;
  identity: KeyLookup & { accountName(accountId: string): string | undefined };
  /** Entry-point prefixes on this listener ("" = the root of the S3 port). */
  prefixes: readonly string[];
  virtualHostDomain?: string;
}

async function dispatch(op: S3Operation, ctx: S3Context): Promise<Response | BufferReply | ChunkReply> {
  switch (op.op) {
    case "ListBuckets":
      return buckets.listBuckets(ctx);
    case "CreateBucket":
      return buckets.createBucket(ctx, op.bucket);
    case "DeleteBucket":
      return buckets.deleteBucket(ctx, op.bucket);
    case "HeadBucket":
      return buckets.headBucket(ctx, op.bucket);
    case "GetBucketLocation":
      return buckets.bucketLocation(ctx, op.bucket);
    case "GetBucketVersioning":
      return buckets.getVersioning(ctx, op.bucket);
    case "PutBucketVersioning":
      return buckets.putVersioning(ctx, op.bucket);
    case "DeleteObjects":
      return buckets.deleteObjects(ctx, op.bucket);
    case "ListObjects":
      return listing.listObjects(ctx, op.bucket);
    case "ListObjectsV2":
      return listing.listObjectsV2(ctx, op.bucket);
    case "ListObjectVersions":
      return listing.listObjectVersions(ctx, op.bucket);
    case "ListMultipartUploads":
      return listing.listMultipartUploads(ctx, op.bucket);
    case "GetBucketAcl":
      return acl.getBucketAcl(ctx, op.bucket);
    case "PutBucketAcl":
      return acl.putBucketAcl(ctx, op.bucket);
    case "GetObjectAcl":
      return acl.getObjectAcl(ctx, op.bucket, op.key);
    case "PutObjectAcl":
      return acl.putObjectAcl(ctx, op.bucket, op.key);
    case "PutObject":
      return objects.putObject(ctx, op.bucket, op.key);
    case "CopyObject":
      return objects.copyObject(ctx, op.bucket, op.key, op.copySource);
    case "GetObject":
      return objects.getObject(ctx, op.bucket, op.key, false);
    case "HeadObject":
      return objects.getObject(ctx, op.bucket, op.key, true);
    case "DeleteObject":
      return objects.deleteObject(ctx, op.bucket, op.key);
    case "CreateMultipartUpload":
      return multipart.createUpload(ctx, op.bucket, op.key);
    case "UploadPart":
      return multipart.uploadPart(ctx, op.bucket, op.key, op.uploadId, op.partNumber);
    case "UploadPartCopy":
      return multipart.uploadPartCopy(ctx, op.bucket, op.key, op.uploadId, op.partNumber, op.copySource);
    case "CompleteMultipartUpload":
      return multipart.completeUpload(ctx, op.bucket, op.key, op.uploadId);
    case "AbortMultipartUpload":
      return multipart.abortUpload(ctx, op.bucket, op.key, op.uploadId);
    case "ListParts":
      return multipart.listParts(ctx, op.bucket, op.key, op.uploadId);
    case "GetBucketTagging":
      return tagging.getBucketTagging(ctx, op.bucket);
    case "PutBucketTagging":
      return tagging.putBucketTagging(ctx, op.bucket);
    case "DeleteBucketTagging":
      return tagging.deleteBucketTagging(ctx, op.bucket);
    case "GetObjectTagging":
      return tagging.getObjectTagging(ctx, op.bucket, op.key);
    case "PutObjectTagging":
      return tagging.putObjectTagging(ctx, op.bucket, op.key);
    case "DeleteObjectTagging":
      return tagging.deleteObjectTagging(ctx, op.bucket, op.key);
    case "GetBucketCors":
      return cors.getBucketCors(ctx, op.bucket);
    case "PutBucketCors":
      return cors.putBucketCors(ctx, op.bucket);
    case "DeleteBucketCors":
      return cors.deleteBucketCors(ctx, op.bucket);
    case "GetBucketPolicy":
      return policy.getBucketPolicy(ctx, op.bucket);
    case "PutBucketPolicy":
      return policy.putBucketPolicy(ctx, op.bucket);
    case "DeleteBucketPolicy":
      return policy.deleteBucketPolicy(ctx, op.bucket);
    case "GetBucketPolicyStatus":
      return policy.getBucketPolicyStatus(ctx, op.bucket);
    case "GetBucketLifecycleConfiguration":
      return lifecycle.getBucketLifecycle(ctx, op.bucket);
    case "PutBucketLifecycleConfiguration":
      return lifecycle.putBucketLifecycle(ctx, op.bucket);
    case "DeleteBucketLifecycle":
      return lifecycle.deleteBucketLifecycle(ctx, op.bucket);
    case "PostObject":
      throw new Error("PostObject is dispatched before authentication");
    case "PreflightCors":
      throw new Error("PreflightCors is answered before authentication");
    case "NotImplemented":
      throw new S3Error(
        "NotImplemented",
        `A header or query you provided implies functionality that is not implemented: ${op.what}`,
      );
    case "InvalidURI":
      throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
    case "MethodNotAllowed":
      throw new S3Error("MethodNotAllowed", `The specified method is not allowed against this resource: ${op.method}`);
  }
}

/** An IPv4 peer as a dotted quad (Node reports "::ffff:127.0.0.1" on dual-stack sockets). */
function normalizeAddress(a: string | undefined): string | undefined {
  return a?.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

export function createS3App(d: S3AppDeps): Hono {
  const app = new Hono();

  const handle = (prefix: string) => async (c: Context) => {
    const started = performance.now();
    const requestId = d.ids.requestId();
    const { incoming, outgoing } = c.env as { incoming: IncomingMessage; outgoing: ServerResponse };
    // The request line as sent: new URL() would fold "/../" segments, which are key data here.
    const target = incoming.url ?? "/";
    const q = target.indexOf("?");
    const rawPath = q < 0 ? target : target.slice(0, q);
    const search = q < 0 ? "" : target.slice(q);
    let op: S3Operation | undefined;
    let requester: Requester = null;
    const base = { "x-amz-request-id": requestId, "x-amz-id-2": requestId };
    const header = (n: string) => c.req.header(n);
    const bodies = makeBodyReaders(
      incoming,
      header,
      awaitsContinue(incoming) ? () => outgoing.writeContinue() : undefined,
    );
    /** Access-Control-* for a browser's actual request, once the bucket is known (errors carry them too). */
    let corsHeaders: Record<string, string> = {};

    const finish = (res: Response, error?: { code: string; fault: string; err?: unknown }) => {
      for (const [k, v] of Object.entries({ ...corsHeaders, ...base })) res.headers.set(k, v);
      bodies.dispose(); // a body left unread (a refused request) is thrown away, never buffered
      logRequest(
        d.log,
        {
          requestId,
          api: "s3",
          action: op?.op ?? null,
          status: res.status,
          started,
          user: requester?.userName ?? null,
        },
        error,
      );
      return res;
    };

    try {
      let pairs: Array<[string, string]>;
      try {
        pairs = parseFormPairs(search.slice(1).replace(/\+/g, "%2B"));
      } catch (e) {
        if (e instanceof MalformedQueryError) throw new S3Error("InvalidArgument", e.message);
        throw e;
      }
      const query = new Map(pairs);
      const headerNames = Object.keys(incoming.headers);
      op = routeS3(
        { method: c.req.method, host: header("host") ?? "", rawPath, query, header },
        { prefix, virtualHostDomain: d.virtualHostDomain },
      );
      if (!op) throw new S3Error("InvalidRequest", "Not an S3 path");
      if (op.op === "PreflightCors") return finish(cors.preflight(d.walrus, op.bucket, header));
      if ("bucket" in op && header("origin") !== undefined)
        corsHeaders = cors.actualRequestCors(d.walrus, op.bucket, c.req.method, header);
      const context = (auth: S3Auth): S3Context => {
        bodies.authenticated(auth);
        const facts: RequestFacts = {
          sourceIp: normalizeAddress(incoming.socket.remoteAddress),
          secureTransport: "encrypted" in incoming.socket,
          now: d.clock.now(),
          userAgent: header("user-agent"),
          referer: header("referer"),
          values: {
            "s3:prefix": query.get("prefix"),
            "s3:delimiter": query.get("delimiter"),
            "s3:max-keys": query.get("max-keys"),
            "s3:x-amz-acl": header("x-amz-acl"),
            "s3:versionid": query.get("versionId"),
            "s3:signatureversion":
              auth.via === "v2" || auth.via === "v2-presigned"
                ? "AWS"
                : auth.via === "anonymous"
                  ? undefined
                  : "AWS4-HMAC-SHA256",
          },
        };
        return {
          requestId,
          method: c.req.method,
          resource: rawPath,
          requester,
          auth,
          query,
          header,
          headerNames,
          walrus: d.walrus.forRequest(facts),
          displayName: (id) => d.identity.accountName(id) ?? id,
          accountExists: (id) => d.identity.accountName(id) !== undefined,
          ...bodies.readers,
        };
      };
      if (op.op === "PostObject") {
        // Authenticated by the signed policy inside the form, not by the request.
        return finish(
          await postObject(
            context({ body: { kind: "none" }, via: "anonymous" }),
            op.bucket,
            incoming as unknown as Readable,
            {
              lookupSecret: d.identity.lookupSecret,
              now: d.clock.now(),
              requesterOf: (id, token) => {
                const p = d.identity.principal(id, token);
                requester = p ? { accountId: p.accountId, userName: p.userName, isAdmin: p.isAdmin } : null;
                return requester;
              },
            },
          ),
        );
      }
      const auth: S3Auth = authenticateS3({
        method: c.req.method,
        rawPath,
        v2Resources: [rawPath.slice(prefix.length) || "/", rawPath],
        query: pairs,
        header,
        headerNames,
        now: d.clock.now(),
        lookupSecret: d.identity.lookupSecret,
      });
      if (auth.accessKeyId !== undefined) {
        const p = d.identity.principal(
          auth.accessKeyId,
          header("x-amz-security-token") ?? query.get("X-Amz-Security-Token"),
        );
        if (!p)
          throw new S3Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        requester = { accountId: p.accountId, userName: p.userName, isAdmin: p.isAdmin };
      }
      const reply = await dispatch(op, context(auth));
      if (reply instanceof Response) return finish(reply);
      // Object bodies go straight to the Node response, past hono.
      outgoing.writeHead(reply.status, { ...reply.headers, ...corsHeaders, ...base });
      finish(new Response(null, { status: reply.status }));
      const early = (err: Error) => d.log.info({ requestId, err: err.message }, "s3: response stream ended early");
      if (reply instanceof BufferReply) outgoing.end(reply.body);
      else writeChunks(reply.source, outgoing).catch(early);
      return new Response(null, { headers: { "x-hono-already-sent": "true" } });
    } catch (e) {
      const r = toS3Error(e);
      const body =
        c.req.method === "HEAD" || r.status === 304
          ? null
          : renderS3Error(r.code, r.message, requestId, rawPath, r.extra);
      const headers: Record<string, string> = { ...(body ? { "content-type": "application/xml" } : {}), ...r.headers };
      return finish(new Response(body, { status: r.status, headers }), { code: r.code, fault: r.fault, err: e });
    }
  };

  for (const prefix of d.prefixes) {
    if (prefix === "") app.all("*", handle(""));
    else {
      app.all(prefix, handle(prefix));
      app.all(`${prefix}/*`, handle(prefix));
    }
  }
  return app;
}
