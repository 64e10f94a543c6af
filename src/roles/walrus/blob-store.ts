/**
 * Object bytes: a blob of up to SMALL_BLOB bytes is a row of walrus.db (its bytes beside
 * its reference count); a larger one is a file, streamed to tmp/, hashed on the way,
 * fsynced, renamed into blobs/<xx>/<id>. Either becomes part of an object only when the
 * metadata transaction that references it commits, so a crash leaves either the old or
 * the new object; rows and files nothing references are swept at start.
 */
import { randomBytes } from "node:crypto";
import type { HashAlgorithm } from "../../common/digests";
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { mkdir, open, readFile, rename, type FileHandle } from "node:fs/promises";
import type { ChunkSource } from "../../server/chunk-source";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BlobWriter, SMALL_BLOB } from "./blob-writer";
export type { HashAlgorithm } from "../../common/digests";
export { SMALL_BLOB } from "./blob-writer";

export interface WrittenBlob {
  id: string;
  size: number;
  md5: Buffer;
  /** Further digests asked for (a signed SHA-256, a client checksum). */
  digests: Partial<Record<HashAlgorithm, Buffer>>;
}

/**
 * Small blobs' bytes in the metadata database (the repository implements it). A row is
 * written unreferenced, before the transaction that references it; one that never gets
 * a reference is deleted by the writer's failure path or by the sweep at start.
 */
export interface InlineBlobs {
  putInlineBlob(id: string, bytes: Buffer): void;
  /** The bytes of a small blob, undefined when the blob is a file (or gone). */
  inlineBlob(id: string): Buffer | undefined;
  /** Deletes a small blob's row if nothing references it. */
  dropInlineBlob(id: string): void;
}

/** Memory kept for small blobs (LRU): a small GET then costs no database or file read. */
const SMALL_CACHE_BYTES = 32 * 1024 * 1024;

export class BlobStore {
  readonly tmpDir: string;
  readonly blobDir: string;
  private readonly madeDirs = new Set<string>();
  /** Blobs never change once written (a new write is a new blob), so a cached copy is never stale. */
  private readonly small = new Map<string, Buffer>();
  private smallBytes = 0;

  constructor(
    root: string,
    private readonly inline: InlineBlobs,
  ) {
    this.tmpDir = join(root, "tmp");
    this.blobDir = join(root, "blobs");
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.blobDir, { recursive: true, mode: 0o700 });
  }

  pathOf(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`bad blob id ${id}`);
    return join(this.blobDir, id.slice(0, 2), id);
  }

  /**
   * Streams `source` into a new blob, computing MD5 (the ETag) and the `extra`
   * digests in the same pass. `check` runs on the finished bytes before they are kept
   * (wrong Content-MD5, a signed SHA-256 that does not match, a short body…): if it
   * throws, nothing is kept.
   */
  async write(
    source: Readable,
    check?: (b: WrittenBlob) => void,
    extra: readonly HashAlgorithm[] = [],
  ): Promise<WrittenBlob> {
    const id = randomBytes(16).toString("hex");
    const tmp = join(this.tmpDir, id);
    const sink = new BlobWriter(tmp, ["md5", ...extra.filter((a) => a !== "md5")]);
    try {
      await pipeline(source, sink);
      const body = await sink.finish();
      const blob = { id, size: body.size, md5: body.digests.md5!, digests: body.digests };
      check?.(blob);
      if (body.bytes) {
        this.inline.putInlineBlob(id, body.bytes);
        this.remember(id, body.bytes);
        return blob;
      }
      // Asynchronous on purpose: a synchronous fsync would stall every other request.
      await sink.sync();
      const dir = join(this.blobDir, id.slice(0, 2));
      if (!this.madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        this.madeDirs.add(dir);
      }
      await rename(tmp, join(dir, id));
      return blob;
    } catch (e) {
      await sink.discard();
      throw e;
    }
  }

  /** Reads [start, end] (inclusive) of a blob. */
  read(id: string, start?: number, end?: number): Readable {
    const cached = this.inMemory(id);
    if (cached)
      return Readable.from([cached.subarray(start ?? 0, end === undefined ? undefined : end + 1)], {
        objectMode: false,
      });
    return createReadStream(this.pathOf(id), { start, end, highWaterMark: 1024 * 1024 });
  }

  /**
   * [start, end] (inclusive) of several blobs in turn, read into the caller's buffers (a
   * ChunkSource: no allocation per chunk). Files are opened one at a time, as reached.
   */
  source(parts: ReadonlyArray<{ id: string; start: number; end: number }>): ChunkSource {
    let i = 0;
    let pos = parts[0]?.start ?? 0;
    let fh: FileHandle | undefined;
    const closeFile = async () => {
      const f = fh;
      fh = undefined;
      await f?.close();
    };
    return {
      size: parts.reduce((n, p) => n + p.end - p.start + 1, 0),
      read: async (into) => {
        while (i < parts.length) {
          const p = parts[i]!;
          if (pos > p.end) {
            await closeFile();
            pos = parts[++i]?.start ?? 0;
            continue;
          }
          const want = Math.min(into.length, p.end - pos + 1);
          const held = fh ? undefined : this.inMemory(p.id);
          if (held) {
            if (held.length <= p.end) throw new Error(`blob ${p.id} is shorter than its record`);
            held.copy(into, 0, pos, pos + want);
            pos += want;
            return want;
          }
          fh ??= await open(this.pathOf(p.id), "r");
          const { bytesRead } = await fh.read(into, 0, want, pos);
          if (bytesRead === 0) throw new Error(`blob ${p.id} is shorter than its record`);
          pos += bytesRead;
          return bytesRead;
        }
        return 0;
      },
      close: closeFile,
    };
  }

  /**
   * A small blob's bytes if they are in memory or in walrus.db (then kept in memory);
   * undefined for a blob that is a file.
   */
  private inMemory(id: string): Buffer | undefined {
    const b = this.small.get(id);
    if (b) {
      this.small.delete(id); // most recently used last
      this.small.set(id, b);
      return b;
    }
    const row = this.inline.inlineBlob(id);
    if (row) this.remember(id, row);
    return row;
  }

  /**
   * A small blob's bytes, from memory, walrus.db, or (then kept) its file — small
   * blobs written before they lived in walrus.db are files; undefined when it is not small.
   */
  async readSmall(id: string, size: number): Promise<Buffer | undefined> {
    if (size > SMALL_BLOB) return undefined;
    const held = this.inMemory(id);
    if (held) return held;
    const bytes = await readFile(this.pathOf(id));
    this.remember(id, bytes);
    return bytes;
  }

  private remember(id: string, bytes: Buffer): void {
    if (bytes.length > SMALL_BLOB || this.small.has(id)) return;
    this.small.set(id, bytes);
    this.smallBytes += bytes.length;
    for (const [old, b] of this.small) {
      if (this.smallBytes <= SMALL_CACHE_BYTES) break;
      this.small.delete(old);
      this.smallBytes -= b.length;
    }
  }

  /** Forgets a blob nothing references any more: its memory copy, its row, its file. */
  remove(id: string): void {
    const b = this.small.get(id);
    if (b) {
      this.small.delete(id);
      this.smallBytes -= b.length;
    }
    this.inline.dropInlineBlob(id);
    try {
      unlinkSync(this.pathOf(id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  /** Removes temporary files and blobs for which `isReferenced` is false. Returns counts. */
  sweep(isReferenced: (id: string) => boolean): { tmp: number; orphans: number } {
    let tmp = 0;
    for (const f of readdirSync(this.tmpDir)) {
      rmSync(join(this.tmpDir, f), { force: true, recursive: true });
      tmp++;
    }
    let orphans = 0;
    for (const sub of readdirSync(this.blobDir)) {
      const dir = join(this.blobDir, sub);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir)) {
        if (!isReferenced(f)) {
          rmSync(join(dir, f), { force: true });
          orphans++;
        }
      }
    }
    return { tmp, orphans };
  }
}
