/**
 * What Walrus stores, as its service speaks of it (the repository keeps these in
 * walrus.db; the S3 protocol renders them). An object version is a list of blob
 * segments, so a multipart Complete or a copy never copies bytes.
 */
import type { Grant } from "./acl";

export interface Tag {
  key: string;
  value: string;
}

export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** A checksum the client sent and Walrus verified, returned with `x-amz-checksum-mode: ENABLED`. */
export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** base64 of the digest; a multipart object's is the digest of its parts' digests, then "-N". */
  value: string;
  type: "FULL_OBJECT" | "COMPOSITE";
}

export interface Segment {
  b: string; // blob id
  n: number; // size in bytes
}

export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  user: Record<string, string>;
}

export type Versioning = "" | "Enabled" | "Suspended";

export interface BucketRecord {
  name: string;
  owner: string;
  createdAt: Date;
  acl: Grant[];
  versioning: Versioning;
  location: string;
  tags?: Tag[];
  cors?: CorsRule[];
  /** The policy document as the owner sent it (validated; parsed again when used). */
  policy?: string;
  lifecycle?: LifecycleRule[];
}

/** The per-bucket configurations stored whole, each in its own column. */
export type BucketConfigName = "tags" | "cors" | "policy" | "lifecycle";

export interface VersionRecord {
  id: number;
  bucket: string;
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  etag: string;
  lastModified: Date;
  owner: string;
  meta: ObjectMeta;
  acl: Grant[];
  segments: Segment[];
  tags: Tag[];
  checksum?: Checksum;
}

export type NewVersion = Omit<VersionRecord, "id" | "isLatest" | "versionId" | "deleteMarker">;

export interface UploadRecord {
  id: string;
  bucket: string;
  key: string;
  owner: string;
  initiated: Date;
  meta: ObjectMeta;
  acl: Grant[];
  tags: Tag[];
  /** The checksum every part must carry (x-amz-checksum-algorithm at create). */
  checksumAlgorithm?: ChecksumAlgorithm;
}

export interface PartRecord {
  partNumber: number;
  blobId: string;
  size: number;
  etag: string;
  lastModified: Date;
  /** base64 digest of the part, in the upload's checksum algorithm. */
  checksum?: string;
}

export const CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: CorsMethod[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export interface LifecycleFilter {
  prefix?: string;
  tags?: Tag[];
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id?: string;
  status: "Enabled" | "Disabled";
  filter: LifecycleFilter;
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean };
  noncurrentVersionExpiration?: { noncurrentDays: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}
