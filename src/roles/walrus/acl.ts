/** S3 access control lists: grants, canned ACLs (with Eucalyptus' aws-exec-read) and the access check. */
import { StorageError } from "../../common/errors";

export type Permission = "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP" | "FULL_CONTROL";
export const PERMISSIONS: readonly Permission[] = ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];
export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
export const LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";

export type Grantee = { type: "CanonicalUser"; id: string } | { type: "Group"; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

/** Who is asking: an authenticated account, or anonymous (null). */
export type Requester = { accountId: string; userName: string; isAdmin: boolean } | null;

export const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "aws-exec-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export interface AclContext {
  owner: string;
  /** The bucket's owner, for bucket-owner-* on objects. */
  bucketOwner?: string;
  /** The cloud's own account (Eucalyptus' "eucalyptus"): aws-exec-read lets it read image bundles. Asked only for that ACL. */
  systemAccount(): string;
}

export function cannedGrants(name: string, c: AclContext): Grant[] {
  const owner: Grant = { grantee: { type: "CanonicalUser", id: c.owner }, permission: "FULL_CONTROL" };
  const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: "Group", uri }, permission });
  switch (name) {
    case "private":
      return [owner];
    case "public-read":
      return [owner, group(ALL_USERS, "READ")];
    case "public-read-write":
      return [owner, group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")];
    case "authenticated-read":
      return [owner, group(AUTHENTICATED_USERS, "READ")];
    case "aws-exec-read":
      return [owner, { grantee: { type: "CanonicalUser", id: c.systemAccount() }, permission: "READ" }];
    case "bucket-owner-read":
      return c.bucketOwner && c.bucketOwner !== c.owner
        ? [owner, { grantee: { type: "CanonicalUser", id: c.bucketOwner }, permission: "READ" }]
        : [owner];
    case "bucket-owner-full-control":
      return c.bucketOwner && c.bucketOwner !== c.owner
        ? [owner, { grantee: { type: "CanonicalUser", id: c.bucketOwner }, permission: "FULL_CONTROL" }]
        : [owner];
    default:
      throw new StorageError("InvalidArgument", `'${name}' is not a canned ACL; valid: ${CANNED_ACLS.join(", ")}`);
  }
}

function matches(g: Grantee, r: Requester): boolean {
  if (g.type === "Group") return g.uri === ALL_USERS || (g.uri === AUTHENTICATED_USERS && r !== null);
  return r !== null && g.id === r.accountId;
}

/** The owner always has full control; otherwise a grant of the permission (or FULL_CONTROL) must match. */
export function allows(owner: string, grants: readonly Grant[], r: Requester, p: Permission): boolean {
  if (r !== null && r.accountId === owner) return true;
  return grants.some((g) => (g.permission === p || g.permission === "FULL_CONTROL") && matches(g.grantee, r));
}
