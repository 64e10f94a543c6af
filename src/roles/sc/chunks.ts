/**
 * A volume's bytes as content-addressed chunks: 512 KiB (the block of AWS's EBS direct
 * APIs), each named by its SHA-256. Only the allocated extents are read (`qemu-img map`
 * says where a sparse file has data), and a chunk of zeros is not a chunk at all: a
 * 1 TiB volume holding 20 GiB costs 20 GiB of reading, not 1 TiB (Cinder's bug 1918119).
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { ProgramRunner } from "../../common/run-program";

export const CHUNK_SIZE = 512 * 1024;

/** The snapshot's table of contents, stored beside its chunks. */
export interface Manifest {
  version: 1;
  snapshotId: string;
  volumeId: string;
  sizeBytes: number;
  chunkSize: number;
  /** Where its chunks are, in the snapshot bucket: `${prefix}${sha256}`. */
  prefix: string;
  /** Chunk-aligned offset → SHA-256, for every chunk that is not all zeros. */
  chunks: Array<[offset: number, sha256: string]>;
}

/** The chunk-aligned offsets of a raw file that may hold data (holes skipped). */
export async function dataChunks(path: string, run: ProgramRunner): Promise<number[]> {
  const r = await run("qemu-img", ["map", "-f", "raw", "--output=json", path], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`qemu-img map: ${(r.stderr || r.stdout).trim()}`);
  const extents = JSON.parse(r.stdout) as Array<{ start: number; length: number; data: boolean }>;
  const offsets = new Set<number>();
  for (const e of extents.filter((x) => x.data)) {
    for (let o = Math.floor(e.start / CHUNK_SIZE) * CHUNK_SIZE; o < e.start + e.length; o += CHUNK_SIZE) offsets.add(o);
  }
  return [...offsets].sort((a, b) => a - b);
}

const isZero = (b: Buffer) => {
  for (let i = 0; i < b.length; i += 8) if (b.readBigUInt64LE(i) !== 0n) return false;
  return true;
};

/**
 * Reads each chunk that may hold data and hands the non-zero ones to `each` (a few at a
 * time, in order of offset per worker), with its hash. Resolves with the manifest's chunks.
 */
export async function forEachChunk(
  path: string,
  offsets: readonly number[],
  each: (c: { offset: number; sha256: string; data: Buffer }) => Promise<void>,
  o: { parallel: number; progress?: (done: number, of: number) => void },
): Promise<Array<[number, string]>> {
  const fh = await open(path, "r");
  const out: Array<[number, string]> = [];
  let next = 0;
  let done = 0;
  try {
    const worker = async () => {
      for (let i = next++; i < offsets.length; i = next++) {
        const offset = offsets[i]!;
        const data = Buffer.alloc(CHUNK_SIZE);
        const { bytesRead } = await fh.read(data, 0, CHUNK_SIZE, offset);
        data.fill(0, bytesRead); // the last chunk of a file whose size is not a multiple
        if (!isZero(data)) {
          const sha256 = createHash("sha256").update(data).digest("hex");
          await each({ offset, sha256, data });
          out.push([offset, sha256]);
        }
        o.progress?.(++done, offsets.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.parallel) }, worker));
  } finally {
    await fh.close();
  }
  return out.sort((a, b) => a[0] - b[0]);
}
