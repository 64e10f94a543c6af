/** ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation, versioning, DeleteObjects. */
import type { S3Context } from "../context";
import { aclFromHeaders } from "../headers";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody } from "../xml";
import { child, childText, children } from "../../../common/xml-reader";
import { checkBodyDigest } from "../body-digest";
import { S3Error } from "../s3-error";
import { toS3Error } from "../errors";

function owner(ctx: S3Context, accountId: string) {
  return { ID: accountId, DisplayName: ctx.displayName(accountId) };
}

export function listBuckets(ctx: S3Context): Response {
  const buckets = ctx.walrus.listBuckets(ctx.requester);
  return xmlResponse("ListAllMyBucketsResult", {
    Owner: owner(ctx, ctx.requester!.accountId),
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.createdAt })) },
  });
}

export async function createBucket(ctx: S3Context, bucket: string): Promise<Response> {
  const body = await ctx.text(64 * 1024);
  let location: string | undefined;
  if (body.trim()) location = childText(parseXmlBody(body, "CreateBucketConfiguration"), "LocationConstraint");
  ctx.walrus.createBucket(ctx.requester, bucket, { ...aclFromHeaders(ctx.header, ctx.requester?.accountId), location });
  return emptyResponse(200, { location: `/${bucket}` });
}

export function deleteBucket(ctx: S3Context, bucket: string): Response {
  ctx.walrus.deleteBucket(ctx.requester, bucket);
  return emptyResponse(204);
}

export function headBucket(ctx: S3Context, bucket: string): Response {
  ctx.walrus.headBucket(ctx.requester, bucket);
  return emptyResponse(200, { "x-amz-bucket-region": ctx.walrus.regionOf(bucket) });
}

export function bucketLocation(ctx: S3Context, bucket: string): Response {
  const location = ctx.walrus.location(ctx.requester, bucket);
  return xmlResponse("LocationConstraint", location ? { "#text": location } : {});
}

export function getVersioning(ctx: S3Context, bucket: string): Response {
  const status = ctx.walrus.getVersioning(ctx.requester, bucket);
  return xmlResponse("VersioningConfiguration", status ? { Status: status } : {});
}

export async function putVersioning(ctx: S3Context, bucket: string): Promise<Response> {
  const status = childText(parseXmlBody(await ctx.text(64 * 1024), "VersioningConfiguration"), "Status");
  if (status === undefined) throw new S3Error("MalformedXML", "Expected <VersioningConfiguration><Status>");
  ctx.walrus.putVersioning(ctx.requester, bucket, status);
  return emptyResponse(200);
}

const MAX_DELETE = 1000;

export async function deleteObjects(ctx: S3Context, bucket: string): Promise<Response> {
  // S3 refuses a multi-object delete whose body is not vouched for by a digest.
  const raw = await ctx.bytes(2 * 1024 * 1024);
  await checkBodyDigest(raw, ctx.header, { required: true });
  const del = parseXmlBody(raw.toString("utf8"), "Delete");
  const objects = children(del, "Object");
  if (objects.length === 0)
    throw new S3Error(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema",
    );
  if (objects.length > MAX_DELETE)
    throw new S3Error("MalformedXML", `At most ${MAX_DELETE} keys can be deleted in one request`);
  const quiet = childText(del, "Quiet")?.trim() === "true";
  const deleted: object[] = [];
  const errors: object[] = [];
  for (const o of objects) {
    // Keys are data: verbatim, never trimmed (" " and "a\n" are keys).
    const key = childText(o, "Key");
    const versionId = childText(o, "VersionId") || undefined;
    if (key === undefined || child(o, "Key")!.children.length > 0)
      throw new S3Error("MalformedXML", "Every <Object> needs a <Key>");
    try {
      const r = ctx.walrus.deleteObject(ctx.requester, bucket, key, versionId);
      if (!quiet) {
        deleted.push({
          Key: key,
          VersionId: versionId,
          DeleteMarker: r.deleteMarker ? true : undefined,
          DeleteMarkerVersionId: r.deleteMarker && versionId === undefined ? r.versionId : undefined,
        });
      }
    } catch (e) {
      const err = toS3Error(e);
      if (err.fault === "server") throw e;
      errors.push({ Key: key, VersionId: versionId, Code: err.code, Message: err.message });
    }
  }
  return xmlResponse("DeleteResult", { Deleted: deleted, Error: errors });
}
