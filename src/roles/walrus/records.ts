/**
 * What Walrus stores, as its service speaks of it (the repository keeps these in
 * walrus.db; the S3 protocol renders them). An object version is a list of blob
 * segments, so a multipart Complete or a copy never copies bytes.
 */
import type { Grant } from "./acl";

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
}

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
}

export interface PartRecord {
  partNumber: number;
  blobId: string;
  size: number;
  etag: string;
  lastModified: Date;
}
