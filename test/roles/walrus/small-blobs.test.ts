/**
 * Small blobs (≤ 128 KiB) live in walrus.db beside their reference count, larger ones
 * are files: both round-trip byte for byte through PUT, GET, ranges, multipart (a small
 * last part after file parts) and copies, across a restart; deletes and refused writes
 * leave no row; small blobs written as files by earlier versions are still served; an
 * unreferenced row a crash could leave is swept at start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3 } from "../../support/s3";

const KiB = 1024;
const SMALL = 128 * KiB;
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

let dir: string;
let t: TestCloud;
let b: string;
beforeAll(async () => {
  dir = tempDir();
  t = await startTestCloud({ dataDir: dir });
  b = bucketName("small");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
});
afterAll(async () => {
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Read-only look at walrus.db (WAL: it sees what the running cloud committed). */
function rows(sql: string, ...args: unknown[]): Array<Record<string, unknown>> {
  const db = new Database(join(dir, "walrus.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}
const blobFiles = () =>
  readdirSync(join(dir, "walrus/blobs")).flatMap((sub) => readdirSync(join(dir, "walrus/blobs", sub)));
const blobOf = (key: string) =>
  JSON.parse(
    rows("SELECT segments FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1", b, key)[0]!.segments as string,
  )[0].b as string;

async function get(key: string, range?: string): Promise<Buffer> {
  const r = await s3(t).send(new GetObjectCommand({ Bucket: b, Key: key, Range: range }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe("small blobs in walrus.db, larger ones as files", () => {
  it("keeps a body of up to 128 KiB (0 bytes too) as a row and one byte more as a file; both read back byte for byte, whole and by range", async () => {
    const sizes = { empty: 0, four: 4 * KiB, edge: SMALL, over: SMALL + 1 };
    const bodies = Object.fromEntries(Object.entries(sizes).map(([k, n]) => [k, randomBytes(n)]));
    const filesBefore = blobFiles().length;
    for (const [k, body] of Object.entries(bodies)) {
      const put = await s3(t).send(new PutObjectCommand({ Bucket: b, Key: k, Body: body }));
      expect(put.ETag).toBe(`"${md5(body)}"`);
    }
    for (const k of ["empty", "four", "edge"]) {
      const [row] = rows("SELECT length(bytes) AS n, refs FROM blobs WHERE id = ?", blobOf(k));
      expect(row).toEqual({ n: sizes[k as keyof typeof sizes], refs: 1 });
    }
    expect(rows("SELECT bytes FROM blobs WHERE id = ?", blobOf("over"))).toEqual([{ bytes: null }]);
    expect(blobFiles()).toHaveLength(filesBefore + 1);
    expect(blobFiles()).toContain(blobOf("over"));
    for (const [k, body] of Object.entries(bodies)) expect((await get(k)).equals(body)).toBe(true);
    expect((await get("edge", "bytes=1000-1999")).equals(bodies.edge!.subarray(1000, 2000))).toBe(true);
    expect((await get("over", `bytes=${SMALL - 10}-`)).equals(bodies.over!.subarray(SMALL - 10))).toBe(true);
    expect(readdirSync(join(dir, "walrus/tmp"))).toEqual([]);
  });

  it("a multipart object whose last part is small, and a copy of it, read across file and row", async () => {
    const c = s3(t);
    const parts = [randomBytes(5 * 1024 * KiB), randomBytes(5 * 1024 * KiB), randomBytes(3 * KiB)];
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp" }));
    const done = [];
    for (const [i, Body] of parts.entries()) {
      const { ETag } = await c.send(new UploadPartCommand({ Bucket: b, Key: "mp", UploadId, PartNumber: i + 1, Body }));
      done.push({ ETag, PartNumber: i + 1 });
    }
    await c.send(
      new CompleteMultipartUploadCommand({ Bucket: b, Key: "mp", UploadId, MultipartUpload: { Parts: done } }),
    );
    await c.send(new CopyObjectCommand({ Bucket: b, Key: "mp-copy", CopySource: `${b}/mp` }));
    const whole = Buffer.concat(parts);
    for (const k of ["mp", "mp-copy"]) {
      expect((await get(k)).equals(whole)).toBe(true);
      const from = whole.length - 4 * KiB;
      expect((await get(k, `bytes=${from}-`)).equals(whole.subarray(from))).toBe(true);
    }
    const segments = JSON.parse(
      rows("SELECT segments FROM objects WHERE bucket = ? AND key = 'mp'", b)[0]!.segments as string,
    ) as Array<{ b: string }>;
    expect(rows("SELECT refs, bytes IS NOT NULL AS inline FROM blobs WHERE id = ?", segments[2]!.b)).toEqual([
      { refs: 2, inline: 1 },
    ]);
  });

  it("a delete frees the row; a refused write (wrong Content-MD5) leaves none", async () => {
    const c = s3(t);
    await c.send(new PutObjectCommand({ Bucket: b, Key: "gone", Body: "short-lived" }));
    const id = blobOf("gone");
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "gone" }));
    expect(rows("SELECT id FROM blobs WHERE id = ?", id)).toEqual([]);
    const before = rows("SELECT count(*) AS n FROM blobs")[0]!.n;
    await expectS3Error(
      c.send(
        new PutObjectCommand({ Bucket: b, Key: "bad", Body: "abc", ContentMD5: Buffer.alloc(16).toString("base64") }),
      ),
      "BadDigest",
      400,
    );
    expect(rows("SELECT count(*) AS n FROM blobs")[0]!.n).toBe(before);
    expect(rows("SELECT count(*) AS n FROM blobs WHERE refs <= 0")[0]!.n).toBe(0);
  });

  it("after a restart: rows and files are served, an old-style small file still is, and an unreferenced row is swept", async () => {
    const legacy = randomBytes(2 * KiB);
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "legacy", Body: legacy }));
    const legacyId = blobOf("legacy");
    await t.stop();
    // As an earlier euca left it: the small blob's bytes in a file, the row without them; and
    // a row written just before a crash, never referenced.
    const db = new Database(join(dir, "walrus.db"));
    db.prepare("UPDATE blobs SET bytes = NULL WHERE id = ?").run(legacyId);
    db.prepare("INSERT INTO blobs (id, size, refs, bytes) VALUES (?, 3, 0, ?)").run(
      "ab".repeat(16),
      Buffer.from("abc"),
    );
    db.close();
    mkdirSync(join(dir, "walrus/blobs", legacyId.slice(0, 2)), { recursive: true });
    writeFileSync(join(dir, "walrus/blobs", legacyId.slice(0, 2), legacyId), legacy);

    t = await startTestCloud({ dataDir: dir });
    expect(rows("SELECT id FROM blobs WHERE refs <= 0")).toEqual([]);
    expect((await get("legacy")).equals(legacy)).toBe(true);
    expect((await get("four")).length).toBe(4 * KiB);
    expect((await get("over")).length).toBe(SMALL + 1);
    await s3(t).send(new DeleteObjectCommand({ Bucket: b, Key: "legacy" }));
    expect(existsSync(join(dir, "walrus/blobs", legacyId.slice(0, 2), legacyId))).toBe(false);
  });
});
