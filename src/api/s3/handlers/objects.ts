/** PutObject, GetObject, HeadObject, DeleteObject, CopyObject. */
import type { VersionRecord, ObjectMeta, Checksum } from "../../../roles/walrus/records";
import type { S3Context } from "../context";
import { aclFromHeaders, decodeContentMd5, metaFromHeaders, metaHeaders, tagsFromHeader } from "../headers";
import { checkConditions, parseRange } from "../conditions";
import { BufferReply, ChunkReply, emptyResponse, httpDate, xmlResponse, type Headers } from "../responses";
import { S3Error } from "../s3-error";

const OVERRIDES: Array<[string, string]> = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

export function versionHeader(versionId: string | undefined): Headers {
  return versionId !== undefined && versionId !== "null" ? { "x-amz-version-id": versionId } : {};
}

/** x-amz-checksum-<algorithm> (and its type) for a stored checksum. */
export function checksumHeaders(c: Checksum | undefined): Headers {
  return c ? { [`x-amz-checksum-${c.algorithm.toLowerCase()}`]: c.value, "x-amz-checksum-type": c.type } : {};
}

/** The checksum as an XML element of CopyObjectResult, CompleteMultipartUploadResult, ListParts (ChecksumCRC32…). */
export function checksumElement(algorithm: string | undefined, value: string | undefined): Record<string, string> {
  return algorithm && value !== undefined ? { [`Checksum${algorithm}`]: value } : {};
}

function objectHeaders(v: VersionRecord, bucketVersioned: boolean, checksumMode: boolean): Headers {
  return {
    "content-type": v.meta.contentType ?? "binary/octet-stream",
    etag: v.etag,
    "last-modified": httpDate(v.lastModified),
    "accept-ranges": "bytes",
    ...metaHeaders({ ...v.meta, contentType: undefined }),
    ...(bucketVersioned ? { "x-amz-version-id": v.versionId } : {}),
    ...(v.tags.length ? { "x-amz-tagging-count": String(v.tags.length) } : {}),
    ...(checksumMode ? checksumHeaders(v.checksum) : {}),
  };
}

export async function putObject(ctx: S3Context, bucket: string, key: string): Promise<Response> {
  if (
    ctx.header("content-length") === undefined &&
    ctx.header("x-amz-decoded-content-length") === undefined &&
    ctx.header("transfer-encoding") === undefined
  ) {
    throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  const meta = metaFromHeaders(ctx.header, ctx.headerNames);
  const acl = aclFromHeaders(ctx.header, ctx.requester?.accountId);
  const tags = tagsFromHeader(ctx.header("x-amz-tagging"));
  const body = ctx.body();
  const r = await ctx.walrus.putObject(ctx.requester, bucket, key, body.stream, {
    meta,
    acl,
    md5: decodeContentMd5(ctx.header("content-md5")),
    contentLength: body.length,
    integrity: body.integrity,
    tags,
  });
  return emptyResponse(200, { etag: r.etag, ...versionHeader(r.versionId), ...checksumHeaders(r.checksum) });
}

export async function getObject(
  ctx: S3Context,
  bucket: string,
  key: string,
  head: boolean,
): Promise<Response | ChunkReply | BufferReply> {
  const versionId = ctx.query.get("versionId");
  const v = ctx.walrus.readable(ctx.requester, bucket, key, versionId);
  const versioned = versionId !== undefined || ctx.walrus.bucket(bucket).versioning !== "";
  const headers = objectHeaders(v, versioned, ctx.header("x-amz-checksum-mode")?.toUpperCase() === "ENABLED");
  const cond = checkConditions(v, {
    ifMatch: ctx.header("if-match"),
    ifNoneMatch: ctx.header("if-none-match"),
    ifModifiedSince: ctx.header("if-modified-since"),
    ifUnmodifiedSince: ctx.header("if-unmodified-since"),
  });
  if (cond === 304)
    return emptyResponse(304, {
      etag: v.etag,
      "last-modified": headers["last-modified"]!,
      ...versionHeader(versioned ? v.versionId : undefined),
    });
  if (cond === 412)
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      Condition: ctx.header("if-match") !== undefined ? "If-Match" : "If-Unmodified-Since",
    });
  for (const [param, header] of OVERRIDES) {
    const value = ctx.query.get(param);
    if (value !== undefined) headers[header] = value;
  }
  const partNumber = ctx.query.get("partNumber");
  let range = parseRange(ctx.header("range"), v.size);
  if (partNumber !== undefined) {
    const part = ctx.walrus.partRange(v, Number(partNumber));
    range = { start: part.start, end: part.end };
    headers["x-amz-mp-parts-count"] = String(part.count);
  }
  if (range) {
    // A checksum covers the whole object: a part or range of it is not what it describes.
    for (const h of Object.keys(headers)) if (h.startsWith("x-amz-checksum-")) delete headers[h];
    headers["content-range"] = `bytes ${range.start}-${range.end}/${v.size}`;
    headers["content-length"] = String(range.end - range.start + 1);
  } else headers["content-length"] = String(v.size);
  const status = range ? 206 : 200;
  if (head || v.size === 0) return emptyResponse(status, headers);
  const small = await ctx.walrus.readSmall(v);
  if (small) return new BufferReply(status, range ? small.subarray(range.start, range.end + 1) : small, headers);
  return new ChunkReply(status, ctx.walrus.source(v, range), headers);
}

export function deleteObject(ctx: S3Context, bucket: string, key: string): Response {
  const r = ctx.walrus.deleteObject(ctx.requester, bucket, key, ctx.query.get("versionId"));
  const h: Headers = {};
  if (r.deleteMarker) h["x-amz-delete-marker"] = "true";
  if (r.versionId !== undefined) h["x-amz-version-id"] = r.versionId;
  return emptyResponse(204, h);
}

/** `bucket/key?versionId=…`, URL-encoded, optional leading slash. */
export function parseCopySource(raw: string): { bucket: string; key: string; versionId?: string } {
  let s = raw.startsWith("/") ? raw.slice(1) : raw;
  let versionId: string | undefined;
  const q = s.indexOf("?");
  if (q >= 0) {
    const params = new URLSearchParams(s.slice(q + 1));
    versionId = params.get("versionId") ?? undefined;
    s = s.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    throw new S3Error("InvalidArgument", "Invalid copy source encoding", { ArgumentName: "x-amz-copy-source" });
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1)
    throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", {
      ArgumentName: "x-amz-copy-source",
    });
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

export function copySourceCheck(ctx: S3Context) {
  return (v: VersionRecord) => {
    const cond = checkConditions(v, {
      ifMatch: ctx.header("x-amz-copy-source-if-match"),
      ifNoneMatch: ctx.header("x-amz-copy-source-if-none-match"),
      ifModifiedSince: ctx.header("x-amz-copy-source-if-modified-since"),
      ifUnmodifiedSince: ctx.header("x-amz-copy-source-if-unmodified-since"),
    });
    if (cond !== undefined)
      throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
        Condition: "x-amz-copy-source-If-*",
      });
  };
}

export function copyObject(ctx: S3Context, bucket: string, key: string, copySource: string): Response {
  const src = parseCopySource(copySource);
  const directive = ctx.header("x-amz-metadata-directive") ?? "COPY";
  if (directive !== "COPY" && directive !== "REPLACE")
    throw new S3Error("InvalidArgument", "Unknown metadata directive.", { ArgumentName: "x-amz-metadata-directive" });
  const replaceMeta: ObjectMeta | undefined =
    directive === "REPLACE" ? metaFromHeaders(ctx.header, ctx.headerNames) : undefined;
  const tagging = ctx.header("x-amz-tagging-directive") ?? "COPY";
  if (tagging !== "COPY" && tagging !== "REPLACE")
    throw new S3Error("InvalidArgument", "Unknown tagging directive.", { ArgumentName: "x-amz-tagging-directive" });
  const r = ctx.walrus.copyObject(
    ctx.requester,
    src,
    { bucket, key },
    {
      replaceMeta,
      acl: aclFromHeaders(ctx.header, ctx.requester?.accountId),
      check: copySourceCheck(ctx),
      replaceTags: tagging === "REPLACE" ? (tagsFromHeader(ctx.header("x-amz-tagging")) ?? []) : undefined,
    },
  );
  return xmlResponse(
    "CopyObjectResult",
    { LastModified: r.lastModified, ETag: r.etag, ...checksumElement(r.checksum?.algorithm, r.checksum?.value) },
    {
      ...versionHeader(r.versionId),
      ...(r.sourceVersionId !== "null" ? { "x-amz-copy-source-version-id": r.sourceVersionId } : {}),
    },
  );
}
