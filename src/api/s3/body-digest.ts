/**
 * Digests of small bodies read whole (XML requests): Content-MD5 and the
 * x-amz-checksum-* headers, checked against the bytes received. Some requests
 * (DeleteObjects) must carry one, as S3 requires.
 */
import { CHECKSUM_HEADERS, DIGEST_LENGTH, digestOf, type HashAlgorithm } from "../../common/digests";
import { S3Error } from "./s3-error";

const DIGESTS: Array<{ name: string; algorithm: HashAlgorithm }> = [
  { name: "content-md5", algorithm: "md5" },
  ...CHECKSUM_HEADERS,
];

export async function checkBodyDigest(
  body: Buffer,
  header: (n: string) => string | undefined,
  o: { required: boolean },
): Promise<void> {
  let checked = false;
  for (const { name, algorithm } of DIGESTS) {
    const sent = header(name);
    if (sent === undefined) continue;
    const expected = Buffer.from(sent.trim(), "base64");
    if (expected.toString("base64") !== sent.trim() || expected.length !== DIGEST_LENGTH[algorithm]) {
      throw new S3Error(
        name === "content-md5" ? "InvalidDigest" : "InvalidArgument",
        `The ${name} you specified is not valid.`,
      );
    }
    if (!expected.equals(await digestOf(algorithm, body)))
      throw new S3Error("BadDigest", `The ${name} you specified did not match the calculated checksum.`);
    checked = true;
  }
  if (!checked && o.required)
    throw new S3Error(
      "InvalidRequest",
      "Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)",
    );
}

/** A small configuration body (tagging, CORS, lifecycle), checked against whatever digest the client sent. */
export async function checkedBytes(
  ctx: { bytes(limit?: number): Promise<Buffer>; header(n: string): string | undefined },
  limit: number,
): Promise<Buffer> {
  const raw = await ctx.bytes(limit);
  await checkBodyDigest(raw, ctx.header, { required: false });
  return raw;
}
