/** CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts. */
import type { S3Context } from "../context";
import { aclFromHeaders, decodeContentMd5, metaFromHeaders, tagsFromHeader } from "../headers";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody } from "../xml";
import { childText, children } from "../../../common/xml-reader";
import { S3Error } from "../s3-error";

import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from "../../../roles/walrus/records";
import { checksumElement, checksumHeaders, copySourceCheck, parseCopySource, versionHeader } from "./objects";

function checksumAlgorithm(ctx: S3Context): ChecksumAlgorithm | undefined {
  const raw = ctx.header("x-amz-checksum-algorithm");
  if (raw === undefined) return undefined;
  const a = raw.toUpperCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(a))
    throw new S3Error(
      "InvalidRequest",
      `Checksum algorithm ${raw} is not supported; use one of ${CHECKSUM_ALGORITHMS.join(", ")}`,
    );
  const type = ctx.header("x-amz-checksum-type");
  if (type !== undefined && type.toUpperCase() !== "COMPOSITE")
    throw new S3Error(
      "NotImplemented",
      `x-amz-checksum-type ${type} is not implemented: multipart checksums are COMPOSITE here`,
    );
  return a;
}

export function createUpload(ctx: S3Context, bucket: string, key: string): Response {
  const algorithm = checksumAlgorithm(ctx);
  const u = ctx.walrus.createUpload(ctx.requester, bucket, key, {
    meta: metaFromHeaders(ctx.header, ctx.headerNames),
    acl: aclFromHeaders(ctx.header, ctx.requester?.accountId),
    tags: tagsFromHeader(ctx.header("x-amz-tagging")),
    checksumAlgorithm: algorithm,
  });
  const headers: Record<string, string> = algorithm
    ? { "x-amz-checksum-algorithm": algorithm, "x-amz-checksum-type": "COMPOSITE" }
    : {};
  return xmlResponse("InitiateMultipartUploadResult", { Bucket: bucket, Key: key, UploadId: u.id }, headers);
}

export async function uploadPart(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: string,
): Promise<Response> {
  const body = ctx.body();
  const p = await ctx.walrus.uploadPart(ctx.requester, bucket, key, uploadId, partNumber, body.stream, {
    md5: decodeContentMd5(ctx.header("content-md5")),
    contentLength: body.length,
    integrity: body.integrity,
  });
  return emptyResponse(200, {
    etag: p.etag,
    ...(p.checksumAlgorithm
      ? checksumHeaders({ algorithm: p.checksumAlgorithm, value: p.checksum!, type: "COMPOSITE" })
      : {}),
  });
}

export async function uploadPartCopy(
  ctx: S3Context,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: string,
  copySource: string,
): Promise<Response> {
  const src = parseCopySource(copySource);
  const rangeHeader = ctx.header("x-amz-copy-source-range");
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
    if (!m)
      throw new S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last", {
        ArgumentName: "x-amz-copy-source-range",
      });
    range = { start: Number(m[1]), end: Number(m[2]) };
  }
  const p = await ctx.walrus.uploadPartCopy(
    ctx.requester,
    bucket,
    key,
    uploadId,
    partNumber,
    src,
    range,
    copySourceCheck(ctx),
  );
  return xmlResponse("CopyPartResult", {
    LastModified: p.lastModified,
    ETag: p.etag,
    ...checksumElement(p.checksumAlgorithm, p.checksum),
  });
}

export async function completeUpload(ctx: S3Context, bucket: string, key: string, uploadId: string): Promise<Response> {
  const root = parseXmlBody(await ctx.text(4 * 1024 * 1024), "CompleteMultipartUpload");
  const parts = children(root, "Part").map((p) => {
    const n = childText(p, "PartNumber")?.trim();
    const etag = childText(p, "ETag");
    if (n === undefined || !/^\d{1,5}$/.test(n) || etag === undefined)
      throw new S3Error("MalformedXML", "Every <Part> needs a <PartNumber> and an <ETag>");
    const checksum = CHECKSUM_ALGORITHMS.map((a) => childText(p, `Checksum${a}`))
      .find((v) => v !== undefined)
      ?.trim();
    return { partNumber: Number(n), etag, checksum };
  });
  const r = await ctx.walrus.complete(ctx.requester, bucket, key, uploadId, parts);
  return xmlResponse(
    "CompleteMultipartUploadResult",
    {
      Location: `/${bucket}/${encodeURIComponent(key)}`,
      Bucket: bucket,
      Key: key,
      ETag: r.etag,
      ...checksumElement(r.checksum?.algorithm, r.checksum?.value),
      ...(r.checksum ? { ChecksumType: r.checksum.type } : {}),
    },
    versionHeader(r.versionId),
  );
}

export function abortUpload(ctx: S3Context, bucket: string, key: string, uploadId: string): Response {
  ctx.walrus.abort(ctx.requester, bucket, key, uploadId);
  return emptyResponse(204);
}

export function listParts(ctx: S3Context, bucket: string, key: string, uploadId: string): Response {
  const { upload, parts } = ctx.walrus.listParts(ctx.requester, bucket, key, uploadId);
  const markerRaw = ctx.query.get("part-number-marker") ?? "0";
  const maxRaw = ctx.query.get("max-parts") ?? "1000";
  if (!/^\d+$/.test(markerRaw) || !/^\d+$/.test(maxRaw))
    throw new S3Error("InvalidArgument", "part-number-marker and max-parts must be integers");
  const after = parts.filter((p) => p.partNumber > Number(markerRaw));
  const max = Math.min(Number(maxRaw), 1000);
  const page = after.slice(0, max);
  const owner = { ID: upload.owner, DisplayName: ctx.displayName(upload.owner) };
  return xmlResponse("ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: "STANDARD",
    PartNumberMarker: Number(markerRaw),
    NextPartNumberMarker: page.length ? page[page.length - 1]!.partNumber : undefined,
    MaxParts: max,
    IsTruncated: after.length > max,
    ...(upload.checksumAlgorithm ? { ChecksumAlgorithm: upload.checksumAlgorithm, ChecksumType: "COMPOSITE" } : {}),
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: p.etag,
      Size: p.size,
      ...checksumElement(upload.checksumAlgorithm, p.checksum),
    })),
  });
}
