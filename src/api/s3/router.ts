/**
 * S3 routing as a pure function: (method, host, path, query, headers) → a typed
 * operation (after Garage). Path-style under a prefix (`/services/Walrus`,
 * `/services/objectstorage`, or the root of the S3 port) and virtual-host style
 * (`<bucket>.<domain>`). The most specific match wins; unknown sub-resources are
 * `NotImplemented`, never a silent fallback to another operation.
 */
export type S3Operation =
  | { op: "ListBuckets" }
  | { op: "CreateBucket"; bucket: string }
  | { op: "DeleteBucket"; bucket: string }
  | { op: "HeadBucket"; bucket: string }
  | { op: "GetBucketLocation"; bucket: string }
  | { op: "ListObjects"; bucket: string }
  | { op: "ListObjectsV2"; bucket: string }
  | { op: "ListObjectVersions"; bucket: string }
  | { op: "ListMultipartUploads"; bucket: string }
  | { op: "GetBucketVersioning"; bucket: string }
  | { op: "PutBucketVersioning"; bucket: string }
  | { op: "GetBucketAcl"; bucket: string }
  | { op: "PutBucketAcl"; bucket: string }
  | { op: "DeleteObjects"; bucket: string }
  | { op: "GetBucketTagging"; bucket: string }
  | { op: "PutBucketTagging"; bucket: string }
  | { op: "DeleteBucketTagging"; bucket: string }
  | { op: "GetBucketCors"; bucket: string }
  | { op: "PutBucketCors"; bucket: string }
  | { op: "DeleteBucketCors"; bucket: string }
  | { op: "GetBucketPolicy"; bucket: string }
  | { op: "PutBucketPolicy"; bucket: string }
  | { op: "DeleteBucketPolicy"; bucket: string }
  | { op: "GetBucketPolicyStatus"; bucket: string }
  | { op: "GetBucketLifecycleConfiguration"; bucket: string }
  | { op: "PutBucketLifecycleConfiguration"; bucket: string }
  | { op: "DeleteBucketLifecycle"; bucket: string }
  | { op: "PreflightCors"; bucket: string; key?: string }
  | { op: "GetObjectTagging"; bucket: string; key: string }
  | { op: "PutObjectTagging"; bucket: string; key: string }
  | { op: "DeleteObjectTagging"; bucket: string; key: string }
  | { op: "PostObject"; bucket: string }
  | { op: "PutObject"; bucket: string; key: string }
  | { op: "CopyObject"; bucket: string; key: string; copySource: string }
  | { op: "GetObject"; bucket: string; key: string }
  | { op: "HeadObject"; bucket: string; key: string }
  | { op: "DeleteObject"; bucket: string; key: string }
  | { op: "GetObjectAcl"; bucket: string; key: string }
  | { op: "PutObjectAcl"; bucket: string; key: string }
  | { op: "CreateMultipartUpload"; bucket: string; key: string }
  | { op: "UploadPart"; bucket: string; key: string; uploadId: string; partNumber: string }
  | { op: "UploadPartCopy"; bucket: string; key: string; uploadId: string; partNumber: string; copySource: string }
  | { op: "CompleteMultipartUpload"; bucket: string; key: string; uploadId: string }
  | { op: "AbortMultipartUpload"; bucket: string; key: string; uploadId: string }
  | { op: "ListParts"; bucket: string; key: string; uploadId: string }
  | { op: "NotImplemented"; what: string }
  | { op: "InvalidURI" }
  | { op: "MethodNotAllowed"; method: string };

export type S3OpName = S3Operation["op"];

export interface S3RouteInput {
  method: string;
  host: string;
  /** Path as received (percent-encoded), without the query. */
  rawPath: string;
  query: ReadonlyMap<string, string>;
  header(name: string): string | undefined;
}

export interface S3RouterConfig {
  /** Path prefix of this entry point ("" for the root of the S3 port). */
  prefix: string;
  /** Domain for virtual-host addressing (`bucket.<domain>`), if enabled. */
  virtualHostDomain?: string;
}

/** Sub-resources we know and do not implement: answered NotImplemented. */
const UNSUPPORTED = [
  "website",
  "replication",
  "encryption",
  "logging",
  "notification",
  "object-lock",
  "retention",
  "legal-hold",
  "accelerate",
  "requestPayment",
  "inventory",
  "analytics",
  "metrics",
  "intelligent-tiering",
  "ownershipControls",
  "publicAccessBlock",
  "torrent",
  "restore",
  "select",
  "attributes",
];

/** Splits bucket and key out of the request; undefined bucket = service level. */
export function addressOf(
  i: Pick<S3RouteInput, "host" | "rawPath">,
  cfg: S3RouterConfig,
): { bucket?: string; key?: string } | undefined {
  let path = i.rawPath;
  if (cfg.prefix) {
    if (path !== cfg.prefix && !path.startsWith(`${cfg.prefix}/`)) return undefined;
    path = path.slice(cfg.prefix.length);
  }
  const host = i.host.toLowerCase().replace(/:\d+$/, "");
  const domain = cfg.virtualHostDomain?.toLowerCase();
  const decode = (s: string) => decodeURIComponent(s);
  if (domain && host.endsWith(`.${domain}`)) {
    const bucket = host.slice(0, -domain.length - 1);
    const key = path.replace(/^\//, "");
    return { bucket, key: key === "" ? undefined : decode(key) };
  }
  const rest = path.replace(/^\//, "");
  if (rest === "") return {};
  const slash = rest.indexOf("/");
  if (slash < 0) return { bucket: decode(rest) };
  const key = rest.slice(slash + 1);
  return { bucket: decode(rest.slice(0, slash)), key: key === "" ? undefined : decode(key) };
}

export function routeS3(i: S3RouteInput, cfg: S3RouterConfig): S3Operation | undefined {
  let addr: ReturnType<typeof addressOf>;
  try {
    addr = addressOf(i, cfg);
  } catch {
    return { op: "InvalidURI" }; // a malformed percent-encoding in the path
  }
  if (!addr) return undefined;
  const m = i.method.toUpperCase();
  const q = i.query;
  const unsupported = UNSUPPORTED.find((s) => q.has(s));
  if (unsupported) return { op: "NotImplemented", what: `the ?${unsupported} sub-resource` };
  const { bucket, key } = addr;

  if (bucket === undefined) {
    if (m === "GET") return { op: "ListBuckets" };
    return { op: "MethodNotAllowed", method: m };
  }
  if (m === "OPTIONS") return { op: "PreflightCors", bucket, key };

  if (key === undefined) {
    switch (m) {
      case "GET":
        if (q.has("location")) return { op: "GetBucketLocation", bucket };
        if (q.has("tagging")) return { op: "GetBucketTagging", bucket };
        if (q.has("cors")) return { op: "GetBucketCors", bucket };
        if (q.has("policyStatus")) return { op: "GetBucketPolicyStatus", bucket };
        if (q.has("policy")) return { op: "GetBucketPolicy", bucket };
        if (q.has("lifecycle")) return { op: "GetBucketLifecycleConfiguration", bucket };
        if (q.has("acl")) return { op: "GetBucketAcl", bucket };
        if (q.has("versioning")) return { op: "GetBucketVersioning", bucket };
        if (q.has("versions")) return { op: "ListObjectVersions", bucket };
        if (q.has("uploads")) return { op: "ListMultipartUploads", bucket };
        if (q.get("list-type") === "2") return { op: "ListObjectsV2", bucket };
        return { op: "ListObjects", bucket };
      case "HEAD":
        return { op: "HeadBucket", bucket };
      case "PUT":
        if (q.has("acl")) return { op: "PutBucketAcl", bucket };
        if (q.has("versioning")) return { op: "PutBucketVersioning", bucket };
        if (q.has("tagging")) return { op: "PutBucketTagging", bucket };
        if (q.has("cors")) return { op: "PutBucketCors", bucket };
        if (q.has("policy")) return { op: "PutBucketPolicy", bucket };
        if (q.has("lifecycle")) return { op: "PutBucketLifecycleConfiguration", bucket };
        return { op: "CreateBucket", bucket };
      case "DELETE":
        if (q.has("tagging")) return { op: "DeleteBucketTagging", bucket };
        if (q.has("cors")) return { op: "DeleteBucketCors", bucket };
        if (q.has("policy")) return { op: "DeleteBucketPolicy", bucket };
        if (q.has("lifecycle")) return { op: "DeleteBucketLifecycle", bucket };
        return { op: "DeleteBucket", bucket };
      case "POST":
        if (q.has("delete")) return { op: "DeleteObjects", bucket };
        if ((i.header("content-type") ?? "").toLowerCase().startsWith("multipart/form-data"))
          return { op: "PostObject", bucket };
        return { op: "MethodNotAllowed", method: m };
      default:
        return { op: "MethodNotAllowed", method: m };
    }
  }

  const uploadId = q.get("uploadId");
  const copySource = i.header("x-amz-copy-source");
  switch (m) {
    case "GET":
      if (q.has("acl")) return { op: "GetObjectAcl", bucket, key };
      if (q.has("tagging")) return { op: "GetObjectTagging", bucket, key };
      if (uploadId !== undefined) return { op: "ListParts", bucket, key, uploadId };
      return { op: "GetObject", bucket, key };
    case "HEAD":
      return { op: "HeadObject", bucket, key };
    case "PUT": {
      if (q.has("acl")) return { op: "PutObjectAcl", bucket, key };
      if (q.has("tagging")) return { op: "PutObjectTagging", bucket, key };
      const partNumber = q.get("partNumber");
      if (uploadId !== undefined && partNumber !== undefined) {
        return copySource !== undefined
          ? { op: "UploadPartCopy", bucket, key, uploadId, partNumber, copySource }
          : { op: "UploadPart", bucket, key, uploadId, partNumber };
      }
      if (copySource !== undefined) return { op: "CopyObject", bucket, key, copySource };
      return { op: "PutObject", bucket, key };
    }
    case "DELETE":
      if (q.has("tagging")) return { op: "DeleteObjectTagging", bucket, key };
      if (uploadId !== undefined) return { op: "AbortMultipartUpload", bucket, key, uploadId };
      return { op: "DeleteObject", bucket, key };
    case "POST":
      if (q.has("uploads")) return { op: "CreateMultipartUpload", bucket, key };
      if (uploadId !== undefined) return { op: "CompleteMultipartUpload", bucket, key, uploadId };
      return { op: "MethodNotAllowed", method: m };
    default:
      return { op: "MethodNotAllowed", method: m };
  }
}
