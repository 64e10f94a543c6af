/** Object metadata and ACLs from request headers, and back to response headers. */
import type { ObjectMeta, Tag } from "../../roles/walrus/records";
import { CANNED_ACLS, type Grant, type Permission } from "../../roles/walrus/acl";
import { S3Error } from "./s3-error";

const STANDARD: Array<[keyof Omit<ObjectMeta, "user">, string]> = [
  ["contentType", "content-type"],
  ["contentEncoding", "content-encoding"],
  ["contentDisposition", "content-disposition"],
  ["contentLanguage", "content-language"],
  ["cacheControl", "cache-control"],
  ["expires", "expires"],
];
const MAX_USER_META = 2048;

/** Metadata of a PUT: standard headers and x-amz-meta-*; `aws-chunked` is a transfer detail, not stored. */
export function metaFromHeaders(header: (n: string) => string | undefined, names: readonly string[]): ObjectMeta {
  const meta: ObjectMeta = { user: {} };
  for (const [field, name] of STANDARD) {
    let v = header(name);
    if (field === "contentEncoding" && v !== undefined) {
      v =
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s && s.toLowerCase() !== "aws-chunked")
          .join(", ") || undefined;
    }
    if (v !== undefined) meta[field] = v;
  }
  let size = 0;
  for (const n of names) {
    if (!n.startsWith("x-amz-meta-")) continue;
    const v = header(n) ?? "";
    const k = n.slice("x-amz-meta-".length);
    size += k.length + Buffer.byteLength(v);
    Object.defineProperty(meta.user, k, { value: v, enumerable: true, writable: true, configurable: true }); // "__proto__" is a name, not the prototype
  }
  if (size > MAX_USER_META)
    throw new S3Error(
      "InvalidArgument",
      `Your metadata headers exceed the maximum allowed metadata size (${MAX_USER_META} bytes)`,
    );
  return meta;
}

export function metaHeaders(meta: ObjectMeta): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [field, name] of STANDARD) {
    const v = meta[field];
    if (v !== undefined) h[name] = v;
  }
  for (const [k, v] of Object.entries(meta.user)) h[`x-amz-meta-${k}`] = v;
  return h;
}

/** x-amz-grant-read: id="123", uri="http://…/AllUsers", … → grants. */
export function parseGrantHeader(permission: Permission, value: string): Grant[] {
  return value.split(",").map((part) => {
    const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (!m) throw new S3Error("InvalidArgument", `Cannot parse grant '${part.trim()}'`);
    if (m[1] === "emailAddress")
      throw new S3Error("InvalidArgument", "Grants by email address are not supported; use id=");
    return {
      grantee: m[1] === "id" ? { type: "CanonicalUser", id: m[2]! } : { type: "Group", uri: m[2]! },
      permission,
    } as Grant;
  });
}

/** Content-MD5 as sent (base64) → the 16 bytes it names; anything else is InvalidDigest. */
export function decodeContentMd5(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const b = Buffer.from(value, "base64");
  if (b.length !== 16 || b.toString("base64") !== value.trim())
    throw new S3Error("InvalidDigest", "The Content-MD5 you specified is not valid.");
  return b;
}

const GRANT_HEADERS: Array<[string, Permission]> = [
  ["x-amz-grant-read", "READ"],
  ["x-amz-grant-write", "WRITE"],
  ["x-amz-grant-read-acp", "READ_ACP"],
  ["x-amz-grant-write-acp", "WRITE_ACP"],
  ["x-amz-grant-full-control", "FULL_CONTROL"],
];

/** x-amz-acl or x-amz-grant-* (not both); undefined when neither is given. */
export function aclFromHeaders(
  header: (n: string) => string | undefined,
  owner?: string,
): { canned?: string; grants?: Grant[] } | undefined {
  const canned = header("x-amz-acl");
  const grants: Grant[] = [];
  for (const [name, permission] of GRANT_HEADERS) {
    const v = header(name);
    if (v !== undefined) grants.push(...parseGrantHeader(permission, v));
  }
  if (canned !== undefined && grants.length)
    throw new S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed");
  if (canned !== undefined && !(CANNED_ACLS as readonly string[]).includes(canned)) {
    throw new S3Error("InvalidArgument", `'${canned}' is not a canned ACL; valid: ${CANNED_ACLS.join(", ")}`, {
      ArgumentName: "x-amz-acl",
    });
  }
  if (canned !== undefined) return { canned };
  if (grants.length) {
    return {
      grants: owner
        ? [{ grantee: { type: "CanonicalUser", id: owner }, permission: "FULL_CONTROL" }, ...grants]
        : grants,
    };
  }
  return undefined;
}

/** x-amz-tagging: a URL query string (`k1=v1&k2=v2`). */
export function tagsFromHeader(value: string | undefined): Tag[] | undefined {
  if (value === undefined) return undefined;
  const tags: Tag[] = [];
  for (const pair of value.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        throw new S3Error(
          "InvalidArgument",
          "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
          { ArgumentName: "x-amz-tagging" },
        );
      }
    };
    tags.push(eq < 0 ? { key: dec(pair), value: "" } : { key: dec(pair.slice(0, eq)), value: dec(pair.slice(eq + 1)) });
  }
  return tags;
}
