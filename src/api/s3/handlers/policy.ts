/** Bucket policies: Get/Put/DeleteBucketPolicy (JSON documents) and GetBucketPolicyStatus. */
import type { S3Context } from "../context";
import { MAX_POLICY_BYTES } from "../../../roles/walrus/policy";
import { emptyResponse, xmlResponse } from "../responses";
import { S3Error } from "../s3-error";

export function getBucketPolicy(ctx: S3Context, bucket: string): Response {
  return new Response(ctx.walrus.getBucketPolicy(ctx.requester, bucket), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

export async function putBucketPolicy(ctx: S3Context, bucket: string): Promise<Response> {
  let text: string;
  try {
    text = await ctx.text(MAX_POLICY_BYTES);
  } catch (e) {
    if (e instanceof S3Error && e.code === "MalformedXML")
      throw new S3Error("MalformedPolicy", `Policies must be smaller than ${MAX_POLICY_BYTES} bytes`);
    throw e;
  }
  ctx.walrus.putBucketPolicy(ctx.requester, bucket, text);
  return emptyResponse(204);
}

export function deleteBucketPolicy(ctx: S3Context, bucket: string): Response {
  ctx.walrus.deleteBucketPolicy(ctx.requester, bucket);
  return emptyResponse(204);
}

export function getBucketPolicyStatus(ctx: S3Context, bucket: string): Response {
  return xmlResponse("PolicyStatus", { IsPublic: ctx.walrus.bucketPolicyIsPublic(ctx.requester, bucket) });
}
