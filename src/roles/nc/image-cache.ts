/**
 * The node's cache of decrypted images (Eucalyptus' get_cached_file, reference §5.2):
 * fetched from Walrus once, checked against the size Walrus reports, kept under a
 * byte budget with least-recently-used eviction, shared by concurrent stagings.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import type { CallContext } from "../../rpc/types";
import { InsufficientCapacityError, UnavailableError } from "../../common/errors";
import type { WalrusClient } from "../walrus/client";
import type { ImageRef } from "./client";

export class NodeImageCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly dir: string, private readonly maxBytes: number, private readonly walrus: () => WalrusClient | undefined) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(dir)) if (f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
  }

  /** Path of the cached image file, fetching it first when needed. */
  fetch(image: ImageRef, ctx: CallContext): Promise<string> {
    const path = join(this.dir, image.id);
    if (existsSync(path)) {
      const now = new Date();
      utimesSync(path, now, now);
      return Promise.resolve(path);
    }
    let p = this.inflight.get(image.id);
    if (!p) {
      p = this.download(image, path, ctx).finally(() => this.inflight.delete(image.id));
      this.inflight.set(image.id, p);
    }
    return p;
  }

  private async download(image: ImageRef, path: string, ctx: CallContext): Promise<string> {
    const walrus = this.walrus();
    if (!walrus) throw new UnavailableError("Walrus is not reachable from this node");
    const got = await walrus.getDecryptedImage({ bucket: image.bucket, key: image.manifestKey }, ctx);
    this.makeRoom(got.size);
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await pipeline(got.body, createWriteStream(tmp, { mode: 0o600 }));
      if (statSync(tmp).size !== got.size) throw new UnavailableError(`image ${image.id} arrived incomplete`);
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return path;
  }

  private makeRoom(incoming: number): void {
    if (incoming > this.maxBytes) throw new InsufficientCapacityError(`image of ${incoming} bytes exceeds the node's image cache`);
    const entries = readdirSync(this.dir).filter((f) => !f.endsWith(".tmp")).map((f) => ({ f, ...statSync(join(this.dir, f)) }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries) {
      if (total + incoming <= this.maxBytes) break;
      rmSync(join(this.dir, e.f), { force: true });
      total -= e.size;
    }
  }
}
