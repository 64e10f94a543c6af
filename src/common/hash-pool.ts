/**
 * Digests of streamed bodies computed on worker threads, so hashing (MD5 for every
 * ETag, the signed SHA-256, the SDKs' default CRC32: ~2 s of CPU per GiB together)
 * runs beside the event loop instead of on it: measured, it was what held a 64 MiB
 * PUT to half of what the disk takes. Bytes go to a worker in 256 KiB blocks copied
 * into transferred buffers (the caller keeps its own chunks for the file); each
 * session stays on one worker, so its hash state lives there; a session with more
 * than 1 MiB not yet hashed makes its writer wait (memory stays bounded; 1 MiB blocks
 * were measured no faster). A worker that dies fails its sessions at once (their
 * uploads answer 500); none waits for an acknowledgement that cannot come.
 * Algorithms a worker does not know (CRC32C, CRC64NVME, from npm packages) are
 * computed here on the calling thread. Blocks travel back with their
 * acknowledgement and are reused, so no garbage piles up in a worker's heap between
 * its collections (it had: 330 MB resident while a 5 GiB object streamed).
 *
 * The worker is a small script of Node built-ins evaluated from a string: it runs
 * the same from the bundle and from the TypeScript sources under test.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { digester, type Digester, type HashAlgorithm } from "./digests";

const WORKER_ALGORITHMS: ReadonlySet<HashAlgorithm> = new Set(["md5", "sha1", "sha256", "crc32"]);
const BLOCK = 256 * 1024;
const MAX_IN_FLIGHT = 1024 * 1024;
/** Free blocks kept for reuse (beyond this, returned blocks are left to the collector). */
const MAX_FREE = 16;
const free: ArrayBuffer[] = [];
const takeBlock = () => free.pop() ?? new ArrayBuffer(BLOCK);

/**
 * A worker's heap holds hash states and small messages only (bytes arrive in transferred
 * buffers, outside it), so a small young generation is plenty, and keeps the process's
 * resident memory near what it was without workers.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { crc32 } = require("node:zlib");
const sessions = new Map();
parentPort.on("message", (m) => {
  if (m.t === "open") {
    sessions.set(m.id, m.algos.map((a) => (a === "crc32" ? { a, crc: 0 } : { a, h: createHash(a) })));
  } else if (m.t === "data") {
    const s = sessions.get(m.id);
    const bytes = new Uint8Array(m.buf, 0, m.n);
    if (s) for (const x of s) { if (x.h) x.h.update(bytes); else x.crc = crc32(bytes, x.crc); }
    parentPort.postMessage({ t: "ack", id: m.id, n: m.n, buf: m.buf }, [m.buf]);
  } else if (m.t === "end") {
    const s = sessions.get(m.id);
    sessions.delete(m.id);
    const out = {};
    for (const x of s ?? []) {
      if (x.h) out[x.a] = x.h.digest();
      else { const b = Buffer.alloc(4); b.writeUInt32BE(x.crc >>> 0); out[x.a] = b; }
    }
    parentPort.postMessage({ t: "digest", id: m.id, out });
  } else if (m.t === "abort") {
    sessions.delete(m.id);
  }
});
`;

export interface HashSession {
  /** Adds a chunk; resolves at once unless too much is waiting to be hashed. */
  update(chunk: Buffer): Promise<void> | undefined;
  digest(): Promise<Partial<Record<HashAlgorithm, Buffer>>>;
  /** Forgets the session (the body failed). */
  abort(): void;
}

interface Pending {
  inFlight: number;
  wake?: () => void;
  done?: (out: Partial<Record<HashAlgorithm, Buffer>>) => void;
  fail?: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  sessions: Map<number, Pending>;
  /** Set while the worker has no session: it stops when this fires. */
  idle?: NodeJS.Timeout;
}

export class HashPool {
  private workers: PoolWorker[] = [];
  private next = 0;
  private ids = 0;

  /**
   * One worker per core, at most four. The event loop is mostly waiting while large bodies
   * stream (a third of a core at 450 MB/s), so it needs no core of its own: on two cores,
   * 8 concurrent 64 MiB PUTs went from ~340 MB/s with one worker to ~405–450 with two
   * (bench/s3, medians of rounds), the workers then ~85% busy with MD5 and SHA-256.
   */
  constructor(
    private readonly size = Math.max(1, Math.min(4, availableParallelism())),
    /**
     * A worker without sessions for this long stops, giving back its heap (~4 MB each:
     * what kept a server streaming a 5 GiB GET after a PUT over 150 MB resident); the
     * next large body starts one again (~30 ms).
     */
    private readonly idleMs = 1000,
  ) {}

  private start(): PoolWorker {
    const w: PoolWorker = {
      worker: new Worker(WORKER_SOURCE, { eval: true, resourceLimits: WORKER_LIMITS }),
      sessions: new Map(),
    };
    w.worker.on(
      "message",
      (m: { t: string; id: number; n?: number; buf?: ArrayBuffer; out?: Record<string, Uint8Array> }) => {
        if (m.buf && free.length < MAX_FREE) free.push(m.buf);
        const p = w.sessions.get(m.id);
        if (!p) return;
        if (m.t === "ack") {
          p.inFlight -= m.n!;
          if (p.inFlight <= MAX_IN_FLIGHT && p.wake) {
            const wake = p.wake;
            p.wake = undefined;
            wake();
          }
        } else if (m.t === "digest") {
          w.sessions.delete(m.id);
          this.stopWhenIdle(w);
          const out: Partial<Record<HashAlgorithm, Buffer>> = {};
          for (const [a, v] of Object.entries(m.out!))
            out[a as HashAlgorithm] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
          p.done?.(out);
        }
      },
    );
    w.worker.on("error", (e) => this.lost(w, e));
    w.worker.on("exit", (code) => this.lost(w, new Error(`hash worker exited (${code})`)));
    // Never what keeps a process alive. After the listeners: adding a "message" listener refs
    // the worker again, which kept a stopped euca from exiting (the crash test's "stall").
    w.worker.unref();
    return w;
  }

  /** A worker that died fails its sessions (their uploads answer 500) and is replaced on next use. */
  private lost(w: PoolWorker, e: Error): void {
    this.workers = this.workers.filter((x) => x !== w);
    for (const p of w.sessions.values()) {
      p.fail?.(e);
      p.wake?.();
    }
    w.sessions.clear();
  }

  private stopWhenIdle(w: PoolWorker): void {
    if (w.sessions.size > 0 || w.idle) return;
    w.idle = setTimeout(() => {
      w.idle = undefined;
      if (w.sessions.size > 0) return;
      this.workers = this.workers.filter((x) => x !== w);
      void w.worker.terminate();
    }, this.idleMs);
    w.idle.unref();
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const w = this.start();
      this.workers.push(w);
      return w;
    }
    return this.workers[this.next++ % this.workers.length]!;
  }

  session(algorithms: readonly HashAlgorithm[]): HashSession {
    const remote = process.env.EUCA_HASH_INLINE ? [] : algorithms.filter((a) => WORKER_ALGORITHMS.has(a));
    const local: Array<[HashAlgorithm, Digester]> = algorithms
      .filter((a) => !remote.includes(a))
      .map((a) => [a, digester(a)]);
    const w = remote.length ? this.pick() : undefined;
    const id = ++this.ids;
    const p: Pending = { inFlight: 0 };
    let failure: Error | undefined;
    p.fail = (e) => (failure = e);
    if (w) {
      w.sessions.set(id, p);
      clearTimeout(w.idle);
      w.idle = undefined;
      w.worker.postMessage({ t: "open", id, algos: remote });
    }
    const stopWhenIdle = (x: PoolWorker) => this.stopWhenIdle(x);
    let block: Buffer | undefined;
    let filled = 0;
    const send = () => {
      if (!w || !block || filled === 0) return;
      const buf = block.buffer as ArrayBuffer;
      p.inFlight += filled;
      w.worker.postMessage({ t: "data", id, buf, n: filled }, [buf]);
      block = undefined;
      filled = 0;
    };
    return {
      update(chunk) {
        // Its worker is gone: fail the body now (nothing would acknowledge what is sent).
        if (failure) return Promise.reject(failure);
        for (const [, d] of local) d.update(chunk);
        if (!w) return undefined;
        let off = 0;
        while (off < chunk.length) {
          // A block is transferred away whole, so nothing here can touch it until it comes back.
          block ??= Buffer.from(takeBlock());
          const n = chunk.copy(block, filled, off);
          filled += n;
          off += n;
          if (filled === block.length) send();
        }
        if (p.inFlight <= MAX_IN_FLIGHT) return undefined;
        return new Promise<void>((resolve) => (p.wake = resolve));
      },
      async digest() {
        const out: Partial<Record<HashAlgorithm, Buffer>> = {};
        for (const [a, d] of local) out[a] = await d.digest();
        if (!w) return out;
        send();
        if (failure) throw failure;
        const remoteOut = await new Promise<Partial<Record<HashAlgorithm, Buffer>>>((resolve, reject) => {
          p.done = resolve;
          p.fail = reject;
          w.worker.postMessage({ t: "end", id });
        });
        return { ...out, ...remoteOut };
      },
      abort() {
        block = undefined;
        if (!w) return;
        w.sessions.delete(id);
        w.worker.postMessage({ t: "abort", id });
        stopWhenIdle(w);
      },
    };
  }

  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    for (const w of ws) clearTimeout(w.idle);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }
}

/** The process's pool, started on first use. */
let shared: HashPool | undefined;
export function hashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}
