/**
 * What an object write is checked against and read back through: key rules, the client's
 * integrity headers, the blob's size and digests, and a version's segments as one stream.
 */
import { Readable } from "node:stream";
import { StorageError } from "../../common/errors";
import { type Grant } from "./acl";
import type { Checksum, ChecksumAlgorithm, ObjectMeta, Segment, Tag } from "./records";
import type { WrittenBlob } from "./blob-store";
import type { ChecksumHash, HashAlgorithm } from "../../common/digests";
import type { WalrusContext } from "./service-context";

export const MAX_KEY_BYTES = 1024;
export const MAX_SINGLE_PUT = 5 * 1024 ** 3;

export interface PutOptions {
  meta: ObjectMeta;
  acl?: { canned?: string; grants?: Grant[] };
  /** The MD5 the client declared (Content-MD5, decoded), checked against the bytes. */
  md5?: Buffer;
  /** Content-Length as declared; a shorter body is IncompleteBody. */
  contentLength?: number;
  /** Allowed size (a POST policy's content-length-range). */
  sizeRange?: { min: number; max: number };
  integrity?: Integrity;
  tags?: Tag[];
}

/**
 * Digests the client vouched for, checked before the object is committed: the
 * SHA-256 it signed, and an x-amz-checksum-* (a header, or an aws-chunked trailer
 * known only once the body has ended).
 */
export interface Integrity {
  sha256Hex?: string;
  checksum?: { name: string; algorithm: ChecksumHash; expected(): string | undefined };
}

export const checksumName = (a: ChecksumHash): ChecksumAlgorithm => a.toUpperCase() as ChecksumAlgorithm;

/** The checksum to keep with the object: the client's, once verified. */
export function verifiedChecksum(i: Integrity | undefined): Checksum | undefined {
  const value = i?.checksum?.expected();
  return i?.checksum && value !== undefined
    ? { algorithm: checksumName(i.checksum.algorithm), value, type: "FULL_OBJECT" }
    : undefined;
}

export function integrityAlgorithms(i: Integrity | undefined): HashAlgorithm[] {
  const out: HashAlgorithm[] = [];
  if (i?.sha256Hex) out.push("sha256");
  if (i?.checksum && !out.includes(i.checksum.algorithm)) out.push(i.checksum.algorithm);
  return out;
}

export interface PutResult {
  etag: string;
  versionId: string;
  size: number;
  checksum?: Checksum;
}

/** Characters no XML document can carry, even as a reference: a key holding one could never be listed without encoding-type=url. */
const UNLISTABLE = /[\u0000\uFFFE\uFFFF]/;

export function checkKey(key: string): void {
  if (key === "") throw new StorageError("InvalidArgument", "An object key must not be empty");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw new StorageError("KeyTooLongError", `Your key is too long (at most ${MAX_KEY_BYTES} bytes)`);
  if (UNLISTABLE.test(key))
    throw new StorageError(
      "InvalidArgument",
      "Object keys must not contain U+0000, U+FFFE or U+FFFF (no XML listing can carry them)",
      { ArgumentName: "key" },
    );
}

/** Checks a finished blob against what the request declared. */
export function blobCheck(o: {
  md5?: Buffer;
  contentLength?: number;
  sizeRange?: { min: number; max: number };
  integrity?: Integrity;
}) {
  return (b: WrittenBlob) => {
    const i = o.integrity;
    if (i?.sha256Hex !== undefined && b.digests.sha256?.toString("hex") !== i.sha256Hex) {
      throw new StorageError(
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    const expected = i?.checksum?.expected();
    if (i?.checksum && expected !== undefined && b.digests[i.checksum.algorithm]?.toString("base64") !== expected) {
      throw new StorageError(
        "BadDigest",
        `The ${i.checksum.name} you specified did not match the calculated checksum.`,
      );
    }
    if (o.sizeRange && b.size < o.sizeRange.min)
      throw new StorageError(
        "EntityTooSmall",
        `Your proposed upload is smaller than the minimum allowed size (${o.sizeRange.min} bytes)`,
      );
    if (o.sizeRange && b.size > o.sizeRange.max)
      throw new StorageError(
        "EntityTooLarge",
        `Your proposed upload exceeds the maximum allowed size (${o.sizeRange.max} bytes)`,
      );
    if (o.contentLength !== undefined && b.size !== o.contentLength) {
      throw new StorageError(
        "IncompleteBody",
        `You did not provide the number of bytes specified by the Content-Length HTTP header (${b.size} of ${o.contentLength})`,
      );
    }
    if (o.md5 && !o.md5.equals(b.md5))
      throw new StorageError("BadDigest", "The Content-MD5 you specified did not match what we received.");
  };
}

/** The pieces of blobs that hold [start, end] of an object made of segments. */
export function piecesOf(
  segments: readonly Segment[],
  start = 0,
  end?: number,
): Array<{ id: string; start: number; end: number }> {
  const last = end ?? segments.reduce((n, s) => n + s.n, 0) - 1;
  const out: Array<{ id: string; start: number; end: number }> = [];
  let offset = 0;
  for (const s of segments) {
    const segStart = offset;
    const segEnd = offset + s.n - 1;
    offset += s.n;
    if (segEnd < start || segStart > last || s.n === 0) continue;
    out.push({ id: s.b, start: Math.max(start, segStart) - segStart, end: Math.min(last, segEnd) - segStart });
  }
  return out;
}

/** Streams [start, end] of an object made of segments. */
export function readSegments(c: WalrusContext, segments: readonly Segment[], start = 0, end?: number): Readable {
  async function* gen() {
    for (const p of piecesOf(segments, start, end)) yield* c.store.read(p.id, p.start, p.end);
  }
  return Readable.from(gen(), { objectMode: false });
}
