/**
 * Where a blob's bytes go while its body streams in. The first SMALL_BLOB bytes are
 * only kept: a body that ends within them is hashed here, at once, and handed back
 * whole, for the store to keep in walrus.db (no file, no inode, no fsync, no trip to a
 * hash worker: together they were most of a 4 KiB PUT's cost, measured). A body that
 * goes past them spills: a temporary file is opened, what was kept is written, and
 * from then on every chunk is hashed on a worker (common/hash-pool.ts) and appended
 * with writev, with at most WRITE_AHEAD bytes waiting for the disk so memory stays
 * bounded whatever the body's size.
 */
import { Writable } from "node:stream";
import { open, rm, type FileHandle } from "node:fs/promises";
import { digestOf, type HashAlgorithm } from "../../common/digests";
import { hashPool, type HashSession } from "../../common/hash-pool";

/** Blobs this small live in walrus.db with their metadata, and are kept in memory once read. */
export const SMALL_BLOB = 128 * 1024;
const WRITE_AHEAD = 1024 * 1024;

export type Digests = Partial<Record<HashAlgorithm, Buffer>>;

/** A finished body: its bytes when it is small, else its file (written, not yet fsynced). */
export type WrittenBody = { size: number; digests: Digests; bytes?: Buffer };

export class BlobWriter extends Writable {
  private kept: Buffer[] = [];
  private size = 0;
  private session?: HashSession;
  private file?: FileHandle;
  private opening?: Promise<FileHandle>;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private flushing?: Promise<void>;
  private failed?: Error;

  constructor(
    private readonly tmpPath: string,
    private readonly algorithms: readonly HashAlgorithm[],
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  /** True once the body went past SMALL_BLOB and has a temporary file. */
  get spilled(): boolean {
    return this.opening !== undefined;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.size += chunk.length;
    if (!this.spilled) {
      this.kept.push(chunk);
      if (this.size <= SMALL_BLOB) return cb();
      this.session = hashPool().session(this.algorithms);
      this.opening = open(this.tmpPath, "wx", 0o600);
      const kept = this.kept;
      this.kept = [];
      this.opening
        .then((fh) => {
          this.file = fh;
          return this.append(kept);
        })
        .then(() => cb(), cb);
      return;
    }
    this.append([chunk]).then(() => cb(), cb);
  }

  /** Hashes and queues chunks for the file; resolves when the writer may take more. */
  private async append(chunks: Buffer[]): Promise<void> {
    if (this.failed) throw this.failed;
    for (const c of chunks) {
      const wait = this.session!.update(c);
      if (wait) await wait;
      this.queued.push(c);
      this.queuedBytes += c.length;
    }
    // Cleared in a later microtask, so never before it is set (flush may finish without waiting).
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    if (this.queuedBytes > WRITE_AHEAD) await this.flushing;
    if (this.failed) throw this.failed;
  }

  /** Writes what is queued, as one writev while more piles up behind it, until nothing is left. */
  private async flush(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        let bufs = this.queued;
        this.queued = [];
        let left = bufs.reduce((n, b) => n + b.length, 0);
        while (left > 0) {
          const { bytesWritten } = await this.file!.writev(bufs);
          left -= bytesWritten;
          this.queuedBytes -= bytesWritten;
          bufs = left > 0 ? remainder(bufs, bytesWritten) : bufs;
        }
      }
    } catch (e) {
      this.failed = e as Error;
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.spilled) return cb();
    (async () => {
      await this.opening;
      while (this.flushing) await this.flushing;
      if (this.failed) throw this.failed;
    })().then(() => cb(), cb);
  }

  /** The finished body's size and digests (and bytes, when small). Call after the pipeline ends. */
  async finish(): Promise<WrittenBody> {
    if (!this.spilled) {
      const bytes = Buffer.concat(this.kept, this.size);
      const digests: Digests = {};
      for (const a of this.algorithms) digests[a] = await digestOf(a, bytes);
      return { size: this.size, digests, bytes };
    }
    return { size: this.size, digests: await this.session!.digest() };
  }

  /** Makes the spilled file durable and closes it. */
  async sync(): Promise<void> {
    const fh = this.file!;
    this.file = undefined;
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Forgets the body: the hash session, the open file, the temporary file. */
  async discard(): Promise<void> {
    this.session?.abort();
    const fh = this.file ?? (await this.opening?.catch(() => undefined));
    this.file = undefined;
    if (fh) {
      while (this.flushing) await this.flushing;
      await fh.close().catch(() => undefined);
    }
    if (this.spilled) await rm(this.tmpPath, { force: true });
  }
}

/** The buffers left after the first `n` bytes of `bufs` were written. */
function remainder(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
