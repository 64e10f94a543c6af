/** Object and bucket tagging: Get/Put/DeleteObjectTagging (by versionId), Get/Put/DeleteBucketTagging, and x-amz-tagging. */
import type { Tag } from "../../../roles/walrus/records";
import type { S3Context } from "../context";
import { child, children } from "../../../common/xml-reader";
import { checkedBytes } from "../body-digest";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody, requiredText } from "../xml";
import { S3Error } from "../s3-error";
import { versionHeader } from "./objects";

/** `<Tagging><TagSet><Tag><Key/><Value/></Tag>…` as sent: keys and values verbatim. */
export function parseTagging(text: string): Tag[] {
  const set = child(parseXmlBody(text, "Tagging"), "TagSet");
  if (!set)
    throw new S3Error(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema (<Tagging> needs <TagSet>)",
    );
  return children(set, "Tag").map((t) => ({
    key: requiredText(t, "Key", "<Tag>"),
    value: requiredText(t, "Value", "<Tag>"),
  }));
}

const tagSet = (tags: readonly Tag[]) => ({ TagSet: { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } });

async function tagsFromBody(ctx: S3Context): Promise<Tag[]> {
  return parseTagging((await checkedBytes(ctx, 64 * 1024)).toString("utf8"));
}

export function getObjectTagging(ctx: S3Context, bucket: string, key: string): Response {
  const v = ctx.walrus.getObjectTagging(ctx.requester, bucket, key, ctx.query.get("versionId"));
  return xmlResponse("Tagging", tagSet(v.tags), versionHeader(v.versionId));
}

export async function putObjectTagging(ctx: S3Context, bucket: string, key: string): Promise<Response> {
  const tags = await tagsFromBody(ctx);
  const v = ctx.walrus.putObjectTagging(ctx.requester, bucket, key, tags, ctx.query.get("versionId"));
  return emptyResponse(200, versionHeader(v.versionId));
}

export function deleteObjectTagging(ctx: S3Context, bucket: string, key: string): Response {
  const v = ctx.walrus.deleteObjectTagging(ctx.requester, bucket, key, ctx.query.get("versionId"));
  return emptyResponse(204, versionHeader(v.versionId));
}

export function getBucketTagging(ctx: S3Context, bucket: string): Response {
  return xmlResponse("Tagging", tagSet(ctx.walrus.getBucketTagging(ctx.requester, bucket)));
}

export async function putBucketTagging(ctx: S3Context, bucket: string): Promise<Response> {
  ctx.walrus.putBucketTagging(ctx.requester, bucket, await tagsFromBody(ctx));
  return emptyResponse(204);
}

export function deleteBucketTagging(ctx: S3Context, bucket: string): Response {
  ctx.walrus.deleteBucketTagging(ctx.requester, bucket);
  return emptyResponse(204);
}
