/**
 * The request body as the client meant it: aws-chunked decoded (its chunk
 * signatures checked as it streams), plus the digests the client vouched for — the
 * SHA-256 it signed and any x-amz-checksum-* — which Walrus checks (hashing in
 * worker threads) before it commits the object.
 */
import type { Readable } from "node:stream";
import { AwsChunkedDecoder } from "../../auth/aws-chunked";
import { guardStream } from "../../server/unread-body";
import type { Integrity } from "../../roles/walrus/objects";
import { CHECKSUM_HEADERS, DIGEST_LENGTH } from "../../common/digests";
import { S3Error } from "./s3-error";
import type { BodyCheck } from "./auth";

export interface DecodedBody {
  stream: Readable;
  /** Length of the decoded content, if the client declared it. */
  length?: number;
  integrity: Integrity;
}

export function decodeBody(raw: Readable, check: BodyCheck, header: (n: string) => string | undefined): DecodedBody {
  const declared = header("content-length");
  let stream: Readable = raw;
  let length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  let trailers: Map<string, string> | undefined;
  const integrity: Integrity = {};
  if (check.kind === "chunked") {
    // Guarded: a bad chunk may arrive before anyone reads (a refused request), and must not crash the process.
    const decoder = guardStream(new AwsChunkedDecoder(check.signing));
    trailers = decoder.trailers;
    raw.on("error", (e) => decoder.destroy(e));
    stream = raw.pipe(decoder);
    const decodedLength = header("x-amz-decoded-content-length");
    length = decodedLength !== undefined && /^\d+$/.test(decodedLength) ? Number(decodedLength) : undefined;
  } else if (check.kind === "sha256") {
    integrity.sha256Hex = check.hex;
  }
  const trailerNames = (header("x-amz-trailer") ?? "").split(",").map((s) => s.trim().toLowerCase());
  const sums = CHECKSUM_HEADERS.filter((c) => header(c.name) !== undefined || trailerNames.includes(c.name));
  if (sums.length > 1)
    throw new S3Error(
      "InvalidRequest",
      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    );
  const sum = sums[0];
  if (sum) {
    const fromHeader = header(sum.name);
    if (fromHeader !== undefined) {
      const raw = Buffer.from(fromHeader, "base64");
      if (raw.length !== DIGEST_LENGTH[sum.algorithm] || raw.toString("base64") !== fromHeader)
        throw new S3Error("InvalidRequest", `Value for ${sum.name} header is invalid.`);
    }
    integrity.checksum = {
      name: sum.name,
      algorithm: sum.algorithm,
      expected: () => fromHeader ?? trailers?.get(sum.name),
    };
  }
  return { stream, length, integrity };
}
