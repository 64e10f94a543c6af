/** writeChunks: the whole source, in order, through two reused buffers; a client that leaves stops the reading and closes the source. */
import { describe, expect, it } from "vitest";
import { createServer, get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { writeChunks, type ChunkSource } from "../../src/server/chunk-source";

/** A source of `total` bytes (byte i is i % 251), counting its reads and whether it was closed. */
function counting(total: number) {
  let pos = 0;
  const seen = new Set<ArrayBufferLike>();
  const s = {
    size: total,
    reads: 0,
    closed: false,
    buffers: seen,
    async read(into: Buffer) {
      seen.add(into.buffer);
      const n = Math.min(into.length, total - pos);
      for (let i = 0; i < n; i++) into[i] = (pos + i) % 251;
      pos += n;
      s.reads++;
      return n;
    },
    async close() {
      s.closed = true;
    },
  };
  return s satisfies ChunkSource;
}

async function serve(source: ChunkSource, chunk: number) {
  const done: { err?: Error; finished?: Promise<void> } = {};
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-length": String(source.size) });
    done.finished = writeChunks(source, res, chunk).catch((e: Error) => void (done.err = e));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, done };
}

const expected = (n: number) =>
  createHash("sha256")
    .update(Buffer.from(Array.from({ length: n }, (_, i) => i % 251)))
    .digest("hex");

describe("writeChunks", () => {
  it("writes every byte in order through two buffers, and closes the source", async () => {
    const src = counting(1_000_003);
    const { server, port, done } = await serve(src, 64 * 1024);
    const body = await new Promise<Buffer>((resolve) =>
      get({ port, host: "127.0.0.1" }, (res: IncomingMessage) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => resolve(Buffer.concat(parts)));
      }),
    );
    await done.finished;
    server.close();
    expect(body.length).toBe(1_000_003);
    expect(createHash("sha256").update(body).digest("hex")).toBe(expected(1_000_003));
    expect(src.buffers.size).toBe(2);
    expect(src.closed).toBe(true);
    expect(done.err).toBeUndefined();
  });

  it("a client that leaves mid-body stops the reads and the source is closed", async () => {
    const src = counting(512 * 1024 * 1024);
    const { server, port, done } = await serve(src, 64 * 1024);
    await new Promise<void>((resolve) => {
      const req = get({ port, host: "127.0.0.1" }, (res) =>
        res.once("data", () => {
          req.destroy();
          resolve();
        }),
      );
    });
    for (let i = 0; i < 200 && !src.closed; i++) await new Promise((r) => setTimeout(r, 10));
    await done.finished;
    server.close();
    expect(src.closed).toBe(true);
    // Node 24 reports the write to a socket its peer destroyed as ECANCELED.
    expect(done.err?.message).toMatch(/closed|destroyed|EPIPE|ECONNRESET|ECANCELED|write after end/i);
    expect(src.reads * 64 * 1024).toBeLessThan(512 * 1024 * 1024); // it stopped reading
  });

  it("buffers are no larger than the body", async () => {
    const src = counting(10);
    const { server, port, done } = await serve(src, 64 * 1024);
    await new Promise<void>((resolve) =>
      get({ port, host: "127.0.0.1" }, (res) => res.resume().on("end", () => resolve())),
    );
    await done.finished;
    server.close();
    expect([...src.buffers].map((b) => b.byteLength)).toEqual([10, 10]);
  });
});
