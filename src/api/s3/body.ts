/**
 * The request body as the client meant it: aws-chunked decoded (and its chunk
 * signatures checked), its declared SHA-256 and any x-amz-checksum-* verified as it
 * streams. A failed check fails the stream, so the object is never committed.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Transform, type Readable } from "node:stream";
import { AwsChunkedDecoder } from "../../auth/aws-chunked";
import type { BodyCheck } from "./auth";
import { S3Error } from "./s3-error";

export interface DecodedBody {
  stream: Readable;
  /** Length of the decoded content, if the client declared it. */
  length?: number;
}

type Checksum = { name: string; algorithm: "crc32" | "sha1" | "sha256"; expected?: string };

function checksumVerifier(sum: Checksum, trailers?: Map<string, string>): Transform {
  let crc = 0;
  const hash = sum.algorithm === "crc32" ? undefined : createHash(sum.algorithm);
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (hash) hash.update(chunk);
      else crc = crc32(chunk, crc);
      cb(null, chunk);
    },
    flush(cb) {
      const expected = sum.expected ?? trailers?.get(sum.name);
      if (expected === undefined) return cb();
      let actual: string;
      if (hash) actual = hash.digest("base64");
      else {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(crc >>> 0);
        actual = b.toString("base64");
      }
      cb(actual === expected ? null : new S3Error("BadDigest", `The ${sum.name} you specified did not match the calculated checksum.`));
    },
  });
}

function sha256Verifier(expectedHex: string): Transform {
  const hash = createHash("sha256");
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      cb(hash.digest("hex") === expectedHex ? null : new S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."));
    },
  });
}

const CHECKSUMS: ReadonlyArray<Checksum> = [
  { name: "x-amz-checksum-crc32", algorithm: "crc32" },
  { name: "x-amz-checksum-sha1", algorithm: "sha1" },
  { name: "x-amz-checksum-sha256", algorithm: "sha256" },
];

export function decodeBody(raw: Readable, check: BodyCheck, header: (n: string) => string | undefined): DecodedBody {
  const declared = header("content-length");
  let stream: Readable = raw;
  let length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  let trailers: Map<string, string> | undefined;
  if (check.kind === "chunked") {
    const decoder = new AwsChunkedDecoder(check.signing);
    trailers = decoder.trailers;
    raw.on("error", (e) => decoder.destroy(e));
    stream = raw.pipe(decoder);
    const decodedLength = header("x-amz-decoded-content-length");
    length = decodedLength !== undefined && /^\d+$/.test(decodedLength) ? Number(decodedLength) : undefined;
  } else if (check.kind === "sha256") {
    const v = sha256Verifier(check.hex);
    raw.on("error", (e) => v.destroy(e));
    stream = raw.pipe(v);
  }
  const trailerNames = (header("x-amz-trailer") ?? "").split(",").map((s) => s.trim().toLowerCase());
  const sum = CHECKSUMS.find((c) => header(c.name) !== undefined || trailerNames.includes(c.name));
  if (sum) {
    const v = checksumVerifier({ ...sum, expected: header(sum.name) }, trailers);
    stream.on("error", (e) => v.destroy(e));
    stream = stream.pipe(v);
  }
  return { stream, length };
}
