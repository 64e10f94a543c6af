/** Digests on worker threads equal the inline ones, under concurrency; a lost worker fails its sessions, never hangs them. */
import { describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import type { Worker } from "node:worker_threads";
import { HashPool } from "../../src/common/hash-pool";

const hex = (b?: Buffer) => b?.toString("hex");

describe("hash pool", () => {
  it("many concurrent sessions, odd chunk sizes, over the in-flight bound: the same digests as inline", async () => {
    const pool = new HashPool(2);
    try {
      const bodies = Array.from({ length: 12 }, (_, i) => randomBytes(i * 700_001 + 13));
      const results = await Promise.all(
        bodies.map(async (body) => {
          const s = pool.session(["md5", "sha256", "crc32", "crc32c"]);
          for (let off = 0; off < body.length;) {
            const n = Math.min(body.length - off, 1 + Math.floor(Math.random() * 3 * 1024 * 1024));
            await s.update(body.subarray(off, off + n));
            off += n;
          }
          return s.digest();
        }),
      );
      results.forEach((d, i) => {
        const body = bodies[i]!;
        expect(hex(d.md5)).toBe(createHash("md5").update(body).digest("hex"));
        expect(hex(d.sha256)).toBe(createHash("sha256").update(body).digest("hex"));
        const c = Buffer.alloc(4);
        c.writeUInt32BE(crc32(body) >>> 0);
        expect(hex(d.crc32)).toBe(c.toString("hex"));
        expect(d.crc32c).toHaveLength(4); // computed on this thread (an npm package), beside the worker's
      });
    } finally {
      await pool.close();
    }
  });

  it("a worker that dies fails its open sessions; the next session gets a new worker", async () => {
    const pool = new HashPool(1);
    try {
      const s = pool.session(["md5"]);
      await s.update(randomBytes(1024 * 1024 + 5));
      const workers = (pool as unknown as { workers: Array<{ worker: Worker }> }).workers;
      await workers[0]!.worker.terminate();
      await expect(s.update(randomBytes(4 * 1024 * 1024))).rejects.toThrow(/hash worker/); // no wait for an acknowledgement that cannot come
      await expect(s.digest()).rejects.toThrow(/hash worker/);
      const t = pool.session(["md5"]);
      await t.update(Buffer.from("abc"));
      expect(hex((await t.digest()).md5)).toBe(createHash("md5").update("abc").digest("hex"));
    } finally {
      await pool.close();
    }
  });
});

describe("hash pool workers", () => {
  it("stop once idle for the pool's idle time and start again for the next session", async () => {
    const pool = new HashPool(1, 50);
    const workers = () => (pool as unknown as { workers: Array<{ worker: Worker }> }).workers;
    try {
      const s = pool.session(["md5", "sha256"]);
      await s.update(Buffer.from("first"));
      await s.digest();
      const first = workers()[0]!.worker;
      const exited = new Promise<number>((resolve) => first.once("exit", resolve));
      await exited;
      expect(workers()).toEqual([]);
      const t = pool.session(["md5"]);
      await t.update(Buffer.from("abc"));
      expect(hex((await t.digest()).md5)).toBe(createHash("md5").update("abc").digest("hex"));
      expect(workers()).toHaveLength(1);
      // An aborted session counts as finished too.
      const u = pool.session(["md5"]);
      u.abort();
      await new Promise<number>((resolve) => workers()[0]!.worker.once("exit", resolve));
      expect(workers()).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
