/**
 * Large bodies written to a Node response from a source that reads into the writer's
 * own buffers. Two buffers take turns: one is read into while the other is on its way
 * to the socket, and a buffer is read into again only once the socket has taken it (the
 * write's callback). A Readable cannot know that, so it allocates a new buffer per chunk,
 * and those wait for a garbage collection: streaming a 5 GiB object held ~45 MB more.
 */
import type { ServerResponse } from "node:http";

export interface ChunkSource {
  /** How many bytes it will give in all (buffers are no larger). */
  readonly size: number;
  /** Fills `into` from the start; 0 at the end. */
  read(into: Buffer): Promise<number>;
  /** Releases what the source holds (files); idempotent. */
  close(): Promise<void>;
}

export const CHUNK_BYTES = 256 * 1024;

/** Writes the whole source to `out` and ends it; stops early (and says so) when the client goes. */
export async function writeChunks(source: ChunkSource, out: ServerResponse, chunkBytes = CHUNK_BYTES): Promise<void> {
  const bytes = Math.max(1, Math.min(chunkBytes, source.size));
  const buffers = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
  const inFlight: Array<Promise<void> | undefined> = [undefined, undefined];
  let gone: Error | undefined;
  let onClose = () => undefined as void;
  // A write to a connection that closed never calls back, so every wait also ends at "close".
  const closed = new Promise<void>(
    (resolve) =>
      (onClose = () => {
        gone ??= new Error("the client closed the connection");
        resolve();
      }),
  );
  out.once("close", onClose);
  try {
    for (let i = 0; ; i ^= 1) {
      await Promise.race([inFlight[i], closed]); // the socket has this buffer's last bytes
      if (gone || out.destroyed) throw gone ?? new Error("the response was destroyed");
      const n = await source.read(buffers[i]!);
      if (n === 0) break;
      inFlight[i] = new Promise<void>((resolve, reject) =>
        out.write(buffers[i]!.subarray(0, n), (err) => (err ? reject(err) : resolve())),
      );
      inFlight[i]!.catch(() => undefined); // awaited on its next turn (or not, if the other write failed first)
    }
    await Promise.race([Promise.all(inFlight.filter((w) => w !== undefined)), closed]);
    if (gone) throw gone;
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), closed]);
  } catch (e) {
    out.destroy();
    throw e;
  } finally {
    out.off("close", onClose);
    await source.close();
  }
}
