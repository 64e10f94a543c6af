/**
 * Bundling an image as ec2-bundle-image / euca-bundle-image do (reference §2.6):
 * tar | gzip | AES-128-CBC, split into 10 MiB parts with SHA-1 digests, key and IV
 * (32-char hex strings) wrapped for the user's and the cloud's certificates, and a
 * signed manifest. Streams throughout: an image is never held in memory.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { create as tarCreate } from "tar";
import { renderManifest, type Manifest, type ManifestPart } from "./manifest";
import { wrapKey } from "./rsa-wrap";
import { writeFileAtomic } from "../common/files";

export const PART_SIZE = 10 * 1024 * 1024;

export interface BundleOptions {
  imagePath: string;
  destDir: string;
  /** File name prefix of the parts and manifest (default: the image's file name). */
  prefix?: string;
  userCertPem: string;
  userKeyPem: string;
  cloudCertPem: string;
  /** The owner's account number (EC2_USER_ID). */
  userId: string;
  architecture?: "i386" | "x86_64";
  kernelId?: string;
  ramdiskId?: string;
  productCodes?: string[];
  partSize?: number;
  /** Called as bytes of the image are read (progress bars). */
  onProgress?(bytesRead: number, total: number): void;
}

export interface Bundle {
  manifestPath: string;
  partPaths: string[];
  manifest: Manifest;
}

async function digestFile(path: string, onProgress?: (n: number) => void): Promise<{ sha1: string; size: number }> {
  const h = createHash("sha1");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    onProgress?.(size);
  }
  return { sha1: h.digest("hex"), size };
}

/** Writes its input into files of `partSize` bytes, with a SHA-1 each. */
class PartWriter extends Writable {
  readonly parts: Array<ManifestPart & { path: string }> = [];
  total = 0;
  private current?: { stream: WriteStream; hash: ReturnType<typeof createHash>; written: number };

  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly partSize: number,
  ) {
    super();
  }

  private open(): NonNullable<PartWriter["current"]> {
    const filename = `${this.prefix}.part.${this.parts.length}`;
    const stream = createWriteStream(join(this.dir, filename), { mode: 0o600 });
    this.current = { stream, hash: createHash("sha1"), written: 0 };
    this.parts.push({ filename, sha1: "", path: join(this.dir, filename) });
    return this.current;
  }

  private async close(): Promise<void> {
    if (!this.current) return;
    const c = this.current;
    this.current = undefined;
    this.parts[this.parts.length - 1]!.sha1 = c.hash.digest("hex");
    await new Promise<void>((resolve, reject) => c.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    (async () => {
      let off = 0;
      while (off < chunk.length) {
        const cur = this.current ?? this.open();
        const take = Math.min(this.partSize - cur.written, chunk.length - off);
        const piece = chunk.subarray(off, off + take);
        cur.hash.update(piece);
        if (!cur.stream.write(piece)) await new Promise<void>((r) => cur.stream.once("drain", () => r()));
        cur.written += take;
        this.total += take;
        off += take;
        if (cur.written === this.partSize) await this.close();
      }
    })().then(() => cb(), cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.close().then(() => cb(), cb);
  }
}

export async function bundleImage(o: BundleOptions): Promise<Bundle> {
  const prefix = o.prefix ?? basename(o.imagePath);
  mkdirSync(o.destDir, { recursive: true });
  const { sha1, size } = await digestFile(o.imagePath, (n) => o.onProgress?.(n / 2, 0));
  const key = randomBytes(16).toString("hex");
  const iv = randomBytes(16).toString("hex");
  const writer = new PartWriter(o.destDir, prefix, o.partSize ?? PART_SIZE);
  await pipeline(
    tarCreate({ cwd: dirname(o.imagePath), portable: true }, [
      basename(o.imagePath),
    ]) as unknown as NodeJS.ReadableStream,
    createGzip(),
    createCipheriv("aes-128-cbc", Buffer.from(key, "hex"), Buffer.from(iv, "hex")),
    writer,
  );
  const manifest: Manifest = {
    architecture: o.architecture ?? "x86_64",
    kernelId: o.kernelId,
    ramdiskId: o.ramdiskId,
    productCodes: o.productCodes,
    name: basename(o.imagePath),
    user: o.userId,
    sha1,
    size,
    bundledSize: writer.total,
    ec2EncryptedKey: wrapKey(o.cloudCertPem, key),
    userEncryptedKey: wrapKey(o.userCertPem, key),
    ec2EncryptedIv: wrapKey(o.cloudCertPem, iv),
    userEncryptedIv: wrapKey(o.userCertPem, iv),
    parts: writer.parts.map(({ filename, sha1: s }) => ({ filename, sha1: s })),
  };
  const manifestPath = join(o.destDir, `${prefix}.manifest.xml`);
  writeFileAtomic(manifestPath, renderManifest(manifest, o.userKeyPem), 0o644);
  return { manifestPath, partPaths: writer.parts.map((p) => p.path), manifest };
}
