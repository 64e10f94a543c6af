import { describe, expect, it } from "vitest";
import { routeS3, type S3Operation, type S3RouterConfig } from "../../../src/api/s3/router";

const root = { prefix: "", virtualHostDomain: "s3.example" };
const walrus = { prefix: "/services/Walrus" };

function route(
  method: string,
  target: string,
  opts: { host?: string; headers?: Record<string, string>; cfg?: S3RouterConfig } = {},
): S3Operation | undefined {
  const [path, qs = ""] = target.split("?") as [string, string?];
  const query = new Map<string, string>();
  for (const part of qs.split("&").filter(Boolean)) {
    const eq = part.indexOf("=");
    query.set(
      decodeURIComponent(eq < 0 ? part : part.slice(0, eq)),
      eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1)),
    );
  }
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return routeS3(
    { method, host: opts.host ?? "127.0.0.1:8776", rawPath: path, query, header: (n) => headers[n.toLowerCase()] },
    opts.cfg ?? root,
  );
}

describe("S3 router", () => {
  it.each<[string, string, Record<string, string> | undefined, S3Operation]>([
    ["GET", "/", undefined, { op: "ListBuckets" }],
    ["PUT", "/b", undefined, { op: "CreateBucket", bucket: "b" }],
    ["PUT", "/b/", undefined, { op: "CreateBucket", bucket: "b" }],
    ["DELETE", "/b", undefined, { op: "DeleteBucket", bucket: "b" }],
    ["HEAD", "/b", undefined, { op: "HeadBucket", bucket: "b" }],
    ["GET", "/b?location", undefined, { op: "GetBucketLocation", bucket: "b" }],
    ["GET", "/b", undefined, { op: "ListObjects", bucket: "b" }],
    ["GET", "/b?list-type=2&prefix=a", undefined, { op: "ListObjectsV2", bucket: "b" }],
    ["GET", "/b?versions", undefined, { op: "ListObjectVersions", bucket: "b" }],
    ["GET", "/b?uploads", undefined, { op: "ListMultipartUploads", bucket: "b" }],
    ["GET", "/b?versioning", undefined, { op: "GetBucketVersioning", bucket: "b" }],
    ["PUT", "/b?versioning", undefined, { op: "PutBucketVersioning", bucket: "b" }],
    ["GET", "/b?acl", undefined, { op: "GetBucketAcl", bucket: "b" }],
    ["PUT", "/b?acl", undefined, { op: "PutBucketAcl", bucket: "b" }],
    ["POST", "/b?delete", undefined, { op: "DeleteObjects", bucket: "b" }],
    ["POST", "/b", { "content-type": "multipart/form-data; boundary=x" }, { op: "PostObject", bucket: "b" }],
    ["PUT", "/b/k", undefined, { op: "PutObject", bucket: "b", key: "k" }],
    ["PUT", "/b/dir/a%20b%2Bc+d", undefined, { op: "PutObject", bucket: "b", key: "dir/a b+c+d" }],
    ["PUT", "/b/..%2F..%2Fetc%2Fpasswd", undefined, { op: "PutObject", bucket: "b", key: "../../etc/passwd" }],
    ["PUT", "/b/k", { "x-amz-copy-source": "/s/k2" }, { op: "CopyObject", bucket: "b", key: "k", copySource: "/s/k2" }],
    ["GET", "/b/k", undefined, { op: "GetObject", bucket: "b", key: "k" }],
    ["GET", "/b/k?versionId=v1", undefined, { op: "GetObject", bucket: "b", key: "k" }],
    ["HEAD", "/b/k", undefined, { op: "HeadObject", bucket: "b", key: "k" }],
    ["DELETE", "/b/k", undefined, { op: "DeleteObject", bucket: "b", key: "k" }],
    ["GET", "/b/k?acl", undefined, { op: "GetObjectAcl", bucket: "b", key: "k" }],
    ["PUT", "/b/k?acl", undefined, { op: "PutObjectAcl", bucket: "b", key: "k" }],
    ["POST", "/b/k?uploads", undefined, { op: "CreateMultipartUpload", bucket: "b", key: "k" }],
    [
      "PUT",
      "/b/k?partNumber=2&uploadId=u",
      undefined,
      { op: "UploadPart", bucket: "b", key: "k", uploadId: "u", partNumber: "2" },
    ],
    [
      "PUT",
      "/b/k?partNumber=2&uploadId=u",
      { "x-amz-copy-source": "s/o" },
      { op: "UploadPartCopy", bucket: "b", key: "k", uploadId: "u", partNumber: "2", copySource: "s/o" },
    ],
    ["POST", "/b/k?uploadId=u", undefined, { op: "CompleteMultipartUpload", bucket: "b", key: "k", uploadId: "u" }],
    ["DELETE", "/b/k?uploadId=u", undefined, { op: "AbortMultipartUpload", bucket: "b", key: "k", uploadId: "u" }],
    ["GET", "/b/k?uploadId=u", undefined, { op: "ListParts", bucket: "b", key: "k", uploadId: "u" }],
    ["GET", "/b?website", undefined, { op: "NotImplemented", what: "the ?website sub-resource" }],
    ["GET", "/b?cors", undefined, { op: "GetBucketCors", bucket: "b" }],
    ["GET", "/b?policyStatus", undefined, { op: "GetBucketPolicyStatus", bucket: "b" }],
    ["OPTIONS", "/b/k", undefined, { op: "PreflightCors", bucket: "b", key: "k" }],
    ["PUT", "/b/k?tagging", undefined, { op: "PutObjectTagging", bucket: "b", key: "k" }],
    ["PUT", "/b/k?encryption", undefined, { op: "NotImplemented", what: "the ?encryption sub-resource" }],
    ["POST", "/b", undefined, { op: "MethodNotAllowed", method: "POST" }],
    ["PATCH", "/b/k", undefined, { op: "MethodNotAllowed", method: "PATCH" }],
    ["DELETE", "/", undefined, { op: "MethodNotAllowed", method: "DELETE" }],
  ])("%s %s %j", (method, target, headers, expected) => {
    expect(route(method, target, { headers })).toEqual(expected);
  });

  it("virtual-host addressing on the configured domain", () => {
    expect(route("GET", "/", { host: "photos.s3.example:8776" })).toEqual({ op: "ListObjects", bucket: "photos" });
    expect(route("PUT", "/a/b.jpg", { host: "photos.s3.example" })).toEqual({
      op: "PutObject",
      bucket: "photos",
      key: "a/b.jpg",
    });
    expect(route("GET", "/photos", { host: "other.host" })).toEqual({ op: "ListObjects", bucket: "photos" });
  });

  it("path-style under /services/Walrus, and nothing outside the prefix", () => {
    expect(route("GET", "/services/Walrus", { cfg: walrus })).toEqual({ op: "ListBuckets" });
    expect(route("GET", "/services/Walrus/b/k", { cfg: walrus })).toEqual({ op: "GetObject", bucket: "b", key: "k" });
    expect(route("GET", "/services/WalrusX/b", { cfg: walrus })).toBeUndefined();
  });

  it("a bad percent-escape does not throw", () => {
    expect(route("GET", "/b/%E0%A4%A")).toEqual({ op: "InvalidURI" });
  });
});
