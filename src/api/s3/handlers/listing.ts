/** ListObjects (v1, v2), ListObjectVersions, ListMultipartUploads. */
import type { VersionRecord } from "../../../roles/walrus/records";
import type { S3Context } from "../context";
import { xmlResponse } from "../responses";
import { needsXml11 } from "../xml";
import { S3Error } from "../s3-error";

function maxKeys(ctx: S3Context, name = "max-keys"): number {
  const raw = ctx.query.get(name);
  if (raw === undefined) return 1000;
  if (!/^\d+$/.test(raw))
    throw new S3Error("InvalidArgument", `${name} must be a non-negative integer`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Math.min(Number(raw), 1000);
}

function encoder(ctx: S3Context): (s: string | undefined) => string | undefined {
  const type = ctx.query.get("encoding-type");
  if (type === undefined) return (s) => s;
  if (type !== "url")
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      ArgumentName: "encoding-type",
    });
  return (s) => (s === undefined ? s : encodeURIComponent(s).replace(/%2F/g, "/"));
}

function owner(ctx: S3Context, id: string) {
  return { ID: id, DisplayName: ctx.displayName(id) };
}

function content(ctx: S3Context, v: VersionRecord, enc: (s: string) => string | undefined, withOwner: boolean) {
  return {
    Key: enc(v.key),
    LastModified: v.lastModified,
    ETag: v.etag,
    Size: v.size,
    Owner: withOwner ? owner(ctx, v.owner) : undefined,
    StorageClass: "STANDARD",
  };
}

export function listObjects(ctx: S3Context, bucket: string): Response {
  const enc = encoder(ctx);
  const prefix = ctx.query.get("prefix") ?? "";
  const delimiter = ctx.query.get("delimiter") || undefined;
  const marker = ctx.query.get("marker") || undefined;
  const max = maxKeys(ctx);
  const r = ctx.walrus.listObjects(ctx.requester, bucket, { prefix, delimiter, startAfter: marker, maxKeys: max });
  return xmlResponse("ListBucketResult", {
    // V1's Prefix is echoed as sent even under encoding-type=url, as RGW does: clients do not
    // decode it there (botocore decodes V1's Delimiter, Marker and NextMarker, V2's Prefix);
    // encoded only when XML 1.0 cannot carry it, which no XML 1.0 reader could read at all.
    Name: bucket,
    Prefix: needsXml11(prefix) ? enc(prefix) : prefix,
    Marker: enc(marker ?? ""),
    MaxKeys: max,
    Delimiter: enc(delimiter),
    IsTruncated: r.isTruncated,
    NextMarker: r.isTruncated ? enc(r.lastReturned) : undefined,
    EncodingType: ctx.query.get("encoding-type"),
    Contents: r.contents.map((v) => content(ctx, v, (s) => enc(s)!, true)),
    CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  });
}

export function listObjectsV2(ctx: S3Context, bucket: string): Response {
  const enc = encoder(ctx);
  const prefix = ctx.query.get("prefix") ?? "";
  const delimiter = ctx.query.get("delimiter") || undefined;
  const token = ctx.query.get("continuation-token");
  const startAfter = ctx.query.get("start-after") || undefined;
  let after = startAfter;
  // An empty token is a first page (as S3 answers it); any other must be one we issued.
  if (token !== undefined && token !== "") {
    after = Buffer.from(token, "base64url").toString("utf8");
    if (Buffer.from(after, "utf8").toString("base64url") !== token)
      throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
        ArgumentName: "continuation-token",
      });
  }
  const max = maxKeys(ctx);
  const r = ctx.walrus.listObjects(ctx.requester, bucket, { prefix, delimiter, startAfter: after, maxKeys: max });
  return xmlResponse("ListBucketResult", {
    Name: bucket,
    Prefix: enc(prefix),
    KeyCount: r.contents.length + r.commonPrefixes.length,
    MaxKeys: max,
    Delimiter: enc(delimiter),
    IsTruncated: r.isTruncated,
    ContinuationToken: token,
    NextContinuationToken:
      r.isTruncated && r.lastReturned !== undefined
        ? Buffer.from(r.lastReturned, "utf8").toString("base64url")
        : undefined,
    StartAfter: enc(startAfter),
    EncodingType: ctx.query.get("encoding-type"),
    Contents: r.contents.map((v) => content(ctx, v, (s) => enc(s)!, ctx.query.get("fetch-owner") === "true")),
    CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  });
}

export function listObjectVersions(ctx: S3Context, bucket: string): Response {
  const enc = encoder(ctx);
  const prefix = ctx.query.get("prefix") ?? "";
  const delimiter = ctx.query.get("delimiter") || undefined;
  const keyMarker = ctx.query.get("key-marker") || undefined;
  const versionIdMarker = ctx.query.get("version-id-marker") || undefined;
  const max = maxKeys(ctx);
  const r = ctx.walrus.listVersions(ctx.requester, bucket, {
    prefix,
    delimiter,
    keyMarker,
    versionIdMarker,
    maxKeys: max,
  });
  const versions = r.versions.filter((v) => !v.deleteMarker);
  const markers = r.versions.filter((v) => v.deleteMarker);
  return xmlResponse("ListVersionsResult", {
    Name: bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker ?? ""),
    VersionIdMarker: versionIdMarker ?? "",
    MaxKeys: max,
    Delimiter: enc(delimiter),
    IsTruncated: r.isTruncated,
    NextKeyMarker: r.isTruncated ? enc(r.nextKeyMarker) : undefined,
    NextVersionIdMarker: r.isTruncated ? r.nextVersionIdMarker : undefined,
    EncodingType: ctx.query.get("encoding-type"),
    Version: versions.map((v) => ({
      Key: enc(v.key),
      VersionId: v.versionId,
      IsLatest: v.isLatest,
      LastModified: v.lastModified,
      ETag: v.etag,
      Size: v.size,
      Owner: owner(ctx, v.owner),
      StorageClass: "STANDARD",
    })),
    DeleteMarker: markers.map((v) => ({
      Key: enc(v.key),
      VersionId: v.versionId,
      IsLatest: v.isLatest,
      LastModified: v.lastModified,
      Owner: owner(ctx, v.owner),
    })),
    CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  });
}

export function listMultipartUploads(ctx: S3Context, bucket: string): Response {
  const enc = encoder(ctx);
  const prefix = ctx.query.get("prefix") ?? "";
  const max = maxKeys(ctx, "max-uploads");
  const r = ctx.walrus.listUploads(ctx.requester, bucket, { prefix, maxUploads: max });
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: bucket,
    KeyMarker: "",
    UploadIdMarker: "",
    Prefix: enc(prefix),
    MaxUploads: max,
    IsTruncated: r.isTruncated,
    EncodingType: ctx.query.get("encoding-type"),
    Upload: r.uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.id,
      Initiator: owner(ctx, u.owner),
      Owner: owner(ctx, u.owner),
      StorageClass: "STANDARD",
      Initiated: u.initiated,
    })),
  });
}
