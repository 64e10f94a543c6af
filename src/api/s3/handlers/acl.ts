/** Get/Put Bucket and Object ACLs (AccessControlPolicy XML, canned and x-amz-grant-* headers). */
import type { Grant, Permission } from "../../../roles/walrus/acl";
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, PERMISSIONS } from "../../../roles/walrus/acl";
import type { S3Context } from "../context";
import { aclFromHeaders } from "../headers";
import { emptyResponse, xmlResponse } from "../responses";
import { parseXmlBody } from "../xml";
import { attribute, child, childText, children } from "../../../common/xml-reader";
import { S3Error } from "../s3-error";

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

function policy(ctx: S3Context, owner: string, grants: readonly Grant[]) {
  return {
    Owner: { ID: owner, DisplayName: ctx.displayName(owner) },
    AccessControlList: {
      Grant: grants.map((g) => ({
        Grantee:
          g.grantee.type === "CanonicalUser"
            ? {
                "@_xmlns:xsi": XSI,
                "@_xsi:type": "CanonicalUser",
                ID: g.grantee.id,
                DisplayName: ctx.displayName(g.grantee.id),
              }
            : { "@_xmlns:xsi": XSI, "@_xsi:type": "Group", URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}

const GROUPS = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

/**
 * The ACL a PUT ?acl asks for: headers, or an AccessControlPolicy body. A body must
 * name the resource's owner (an ACL cannot hand the resource to someone else) and
 * grantees S3 knows: CanonicalUser by an existing ID, Group by a known URI.
 */
async function requestedAcl(ctx: S3Context, owner: () => string): Promise<{ canned?: string; grants?: Grant[] }> {
  const fromHeaders = aclFromHeaders(ctx.header);
  const body = await ctx.text(256 * 1024);
  if (fromHeaders && body.trim())
    throw new S3Error("UnexpectedContent", "This request does not support content when ACL headers are given");
  if (fromHeaders) return fromHeaders; // the owner keeps full control implicitly
  if (!body.trim()) throw new S3Error("MissingRequestBodyError", "Request Body is empty");
  const acp = parseXmlBody(body, "AccessControlPolicy", "MalformedACLError");
  const ownerId = childText(child(acp, "Owner"), "ID")?.trim();
  if (ownerId === undefined)
    throw new S3Error(
      "MalformedACLError",
      "The XML you provided was not well-formed or did not validate against our published schema (an Owner with an ID is required)",
    );
  if (ownerId !== owner())
    throw new S3Error("AccessDenied", "The Owner of an access control policy must be the resource's owner");
  const grants = children(child(acp, "AccessControlList"), "Grant").map((g): Grant => {
    const grantee = child(g, "Grantee");
    const permission = childText(g, "Permission")?.trim() as Permission;
    if (!grantee || !PERMISSIONS.includes(permission))
      throw new S3Error("MalformedACLError", "Each Grant needs a Grantee and a valid Permission");
    const type = attribute(grantee, "type");
    const id = childText(grantee, "ID")?.trim();
    const uri = childText(grantee, "URI")?.trim();
    switch (type) {
      case "CanonicalUser":
        if (!id) throw new S3Error("MalformedACLError", "A CanonicalUser grantee needs an ID");
        if (!ctx.accountExists(id))
          throw new S3Error("InvalidArgument", "Invalid id", { ArgumentName: "CanonicalUser/ID", ArgumentValue: id });
        return { grantee: { type: "CanonicalUser", id }, permission };
      case "Group":
        if (!uri) throw new S3Error("MalformedACLError", "A Group grantee needs a URI");
        if (!GROUPS.includes(uri))
          throw new S3Error("InvalidArgument", "Invalid group uri", { ArgumentName: "Group/URI", ArgumentValue: uri });
        return { grantee: { type: "Group", uri }, permission };
      case "AmazonCustomerByEmail":
        throw new S3Error(
          "UnresolvableGrantByEmailAddress",
          "The e-mail address you provided does not match any account on record (grants by e-mail are not supported)",
        );
      default:
        throw new S3Error(
          "MalformedACLError",
          `A Grantee needs xsi:type CanonicalUser, Group or AmazonCustomerByEmail${type ? `, not '${type}'` : ""}`,
        );
    }
  });
  return { grants };
}

export function getBucketAcl(ctx: S3Context, bucket: string): Response {
  const b = ctx.walrus.getAcl(ctx.requester, bucket);
  return xmlResponse("AccessControlPolicy", policy(ctx, b.owner, b.acl));
}

export async function putBucketAcl(ctx: S3Context, bucket: string): Promise<Response> {
  ctx.walrus.putAcl(ctx.requester, bucket, await requestedAcl(ctx, () => ctx.walrus.bucket(bucket).owner));
  return emptyResponse(200);
}

export function getObjectAcl(ctx: S3Context, bucket: string, key: string): Response {
  const v = ctx.walrus.getObjectAcl(ctx.requester, bucket, key, ctx.query.get("versionId"));
  return xmlResponse("AccessControlPolicy", policy(ctx, v.owner, v.acl));
}

export async function putObjectAcl(ctx: S3Context, bucket: string, key: string): Promise<Response> {
  const versionId = ctx.query.get("versionId");
  ctx.walrus.putObjectAcl(
    ctx.requester,
    bucket,
    key,
    await requestedAcl(ctx, () => ctx.walrus.objectOwner(bucket, key, versionId)),
    versionId,
  );
  return emptyResponse(200);
}
