/** Get/Put Bucket and Object ACLs (AccessControlPolicy XML, canned and x-amz-grant-* headers). */
import type { Grant, Permission } from "../../../roles/walrus/acl";
import { PERMISSIONS } from "../../../roles/walrus/acl";
import type { S3Context } from "../context";
import { aclFromHeaders } from "../headers";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody, text } from "../xml";
import { S3Error } from "../s3-error";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

function policy(ctx: S3Context, owner: string, grants: readonly Grant[]) {
  return {
    Owner: { ID: owner, DisplayName: ctx.displayName(owner) },
    AccessControlList: {
      Grant: grants.map((g) => ({
        Grantee: g.grantee.type === "CanonicalUser"
          ? { "@_xmlns:xsi": XSI, "@_xsi:type": "CanonicalUser", ID: g.grantee.id, DisplayName: ctx.displayName(g.grantee.id) }
          : { "@_xmlns:xsi": XSI, "@_xsi:type": "Group", URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}

/** The ACL a PUT ?acl asks for: headers, or an AccessControlPolicy body. */
async function requestedAcl(ctx: S3Context): Promise<{ canned?: string; grants?: Grant[] }> {
  const fromHeaders = aclFromHeaders(ctx.header);
  const body = (await ctx.text(256 * 1024)).trim();
  if (fromHeaders && body) throw new S3Error("UnexpectedContent", "This request does not support content when ACL headers are given");
  if (fromHeaders) return fromHeaders; // the owner keeps full control implicitly
  if (!body) throw new S3Error("MissingRequestBodyError", "Request Body is empty");
  const doc = parseXmlBody(body, ["Grant"], "MalformedACLError");
  const acp = doc.AccessControlPolicy as Record<string, unknown> | undefined;
  const list = acp?.AccessControlList as Record<string, unknown> | undefined;
  if (!acp || typeof acp !== "object") throw new S3Error("MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema");
  const grants = ((list?.Grant as unknown[] | undefined) ?? []).map((g): Grant => {
    const grantee = (g as Record<string, unknown>).Grantee as Record<string, unknown> | undefined;
    const permission = text(g, "Permission") as Permission;
    if (!grantee || !PERMISSIONS.includes(permission)) throw new S3Error("MalformedACLError", "Each Grant needs a Grantee and a valid Permission");
    const id = text(grantee, "ID");
    const uri = text(grantee, "URI");
    if (id) return { grantee: { type: "CanonicalUser", id }, permission };
    if (uri) return { grantee: { type: "Group", uri }, permission };
    throw new S3Error("MalformedACLError", "A Grantee needs an ID or a URI (email grantees are not supported)");
  });
  return { grants };
}

export function getBucketAcl(ctx: S3Context, bucket: string): Response {
  const b = ctx.walrus.getAcl(ctx.requester, bucket);
  return xmlResponse("AccessControlPolicy", policy(ctx, b.owner, b.acl));
}

export async function putBucketAcl(ctx: S3Context, bucket: string): Promise<Response> {
  ctx.walrus.putAcl(ctx.requester, bucket, await requestedAcl(ctx));
  return emptyResponse(200);
}

export function getObjectAcl(ctx: S3Context, bucket: string, key: string): Response {
  const v = ctx.walrus.getObjectAcl(ctx.requester, bucket, key, ctx.query.get("versionId"));
  return xmlResponse("AccessControlPolicy", policy(ctx, v.owner, v.acl));
}

export async function putObjectAcl(ctx: S3Context, bucket: string, key: string): Promise<Response> {
  ctx.walrus.putObjectAcl(ctx.requester, bucket, key, await requestedAcl(ctx), ctx.query.get("versionId"));
  return emptyResponse(200);
}
