/**
 * Digests of small bodies read whole (XML requests): Content-MD5 and the
 * x-amz-checksum-* headers, checked against the bytes received. Some requests
 * (DeleteObjects) must carry one, as S3 requires.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { S3Error } from "./s3-error";

const DIGESTS: Record<string, ((b: Buffer) => Buffer) | undefined> = {
  "content-md5": (b) => createHash("md5").update(b).digest(),
  "x-amz-checksum-sha256": (b) => createHash("sha256").update(b).digest(),
  "x-amz-checksum-sha1": (b) => createHash("sha1").update(b).digest(),
  "x-amz-checksum-crc32": (b) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(b) >>> 0);
    return out;
  },
};

/** Algorithms S3 accepts that this build cannot compute: answered as such rather than trusted unchecked. */
const UNCHECKABLE = ["x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme"];

export function checkBodyDigest(body: Buffer, header: (n: string) => string | undefined, o: { required: boolean }): void {
  let checked = false;
  for (const [name, digest] of Object.entries(DIGESTS)) {
    const sent = header(name);
    if (sent === undefined) continue;
    const expected = Buffer.from(sent.trim(), "base64");
    if (expected.toString("base64") !== sent.trim() || expected.length !== digest!(Buffer.alloc(0)).length) {
      throw new S3Error(name === "content-md5" ? "InvalidDigest" : "InvalidArgument", `The ${name} you specified is not valid.`);
    }
    if (!expected.equals(digest!(body))) throw new S3Error("BadDigest", `The ${name} you specified did not match the calculated checksum.`);
    checked = true;
  }
  const uncheckable = UNCHECKABLE.find((n) => header(n) !== undefined);
  if (!checked && uncheckable) throw new S3Error("InvalidRequest", `${uncheckable} is not supported here; send Content-MD5 or x-amz-checksum-crc32, -sha1 or -sha256`);
  if (!checked && o.required) throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)");
}
