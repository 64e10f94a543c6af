/** Bucket CORS: Get/Put/DeleteBucketCors, the anonymous preflight OPTIONS, and the headers on actual requests. */
import type { CorsGrant } from "../../../roles/walrus/cors";
import type { CorsMethod, CorsRule } from "../../../roles/walrus/records";
import type { WalrusOperations } from "../../../roles/walrus/service";
import type { S3Context } from "../context";
import { children } from "../../../common/xml-reader";
import { checkedBytes } from "../body-digest";
import { emptyResponse, xmlResponse, type Headers } from "../responses";
import { parseXmlBody } from "../xml";
import { S3Error } from "../s3-error";

const texts = (el: Parameters<typeof children>[0], name: string) => children(el, name).map((c) => c.text.trim());

export function parseCors(text: string): CorsRule[] {
  return children(parseXmlBody(text, "CORSConfiguration"), "CORSRule").map((r) => {
    const maxAge = texts(r, "MaxAgeSeconds")[0];
    if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge))
      throw new S3Error("MalformedXML", "MaxAgeSeconds must be a non-negative integer");
    return {
      id: children(r, "ID")[0]?.text,
      allowedOrigins: texts(r, "AllowedOrigin"),
      allowedMethods: texts(r, "AllowedMethod") as CorsMethod[],
      allowedHeaders: texts(r, "AllowedHeader"),
      exposeHeaders: texts(r, "ExposeHeader"),
      maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge),
    };
  });
}

export function getBucketCors(ctx: S3Context, bucket: string): Response {
  const rules = ctx.walrus.getBucketCors(ctx.requester, bucket);
  return xmlResponse("CORSConfiguration", {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  });
}

export async function putBucketCors(ctx: S3Context, bucket: string): Promise<Response> {
  ctx.walrus.putBucketCors(ctx.requester, bucket, parseCors((await checkedBytes(ctx, 64 * 1024)).toString("utf8")));
  return emptyResponse(200);
}

export function deleteBucketCors(ctx: S3Context, bucket: string): Response {
  ctx.walrus.deleteBucketCors(ctx.requester, bucket);
  return emptyResponse(204);
}

/** The Access-Control-* headers a grant sends. */
export function corsHeaders(g: CorsGrant, preflight: boolean): Headers {
  const h: Headers = {
    "access-control-allow-origin": g.allowOrigin,
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  };
  if (g.allowCredentials) h["access-control-allow-credentials"] = "true";
  if (preflight || g.allowMethods) h["access-control-allow-methods"] = g.allowMethods;
  if (g.allowHeaders) h["access-control-allow-headers"] = g.allowHeaders;
  if (g.exposeHeaders) h["access-control-expose-headers"] = g.exposeHeaders;
  if (g.maxAgeSeconds !== undefined) h["access-control-max-age"] = String(g.maxAgeSeconds);
  return h;
}

const DENIED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/** OPTIONS: unauthenticated, answered from the bucket's rules alone. */
export function preflight(
  walrus: WalrusOperations,
  bucket: string,
  header: (n: string) => string | undefined,
): Response {
  const origin = header("origin");
  if (!origin) throw new S3Error("BadRequest", "Insufficient information. Origin request header needed.");
  const method = header("access-control-request-method");
  if (!method || !/^[A-Z]+$/.test(method))
    throw new S3Error("BadRequest", `Invalid Access-Control-Request-Method: ${method ?? ""}`);
  const requested = (header("access-control-request-headers") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const r = walrus.corsFor(bucket, origin, method, requested);
  if (!r.bucket) throw new S3Error("NoSuchBucket", "The specified bucket does not exist", { BucketName: bucket });
  if (!r.configured)
    throw new S3Error("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.", {
      Method: method,
      ResourceType: "BUCKET",
    });
  if (!r.grant) throw new S3Error("AccessForbidden", DENIED, { Method: method, ResourceType: "OBJECT" });
  return emptyResponse(200, corsHeaders(r.grant, true));
}

/** Headers for an actual (non-preflight) request from a browser, if a rule allows its origin and method. */
export function actualRequestCors(
  walrus: WalrusOperations,
  bucket: string,
  method: string,
  header: (n: string) => string | undefined,
): Headers {
  const origin = header("origin");
  if (!origin) return {};
  const grant = walrus.corsFor(bucket, origin, method).grant;
  return grant ? corsHeaders(grant, false) : {};
}
