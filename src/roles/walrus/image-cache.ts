/**
 * Decrypted images, as nodes fetch them (Eucalyptus' GetDecryptedImage): a bundle is
 * decrypted once into the cache, then served from there. Entries are named by the
 * manifest's location and ETag (a re-uploaded bundle is a new entry); the cache is
 * bounded in bytes and evicts the least recently used entries. Concurrent requests
 * for one image share a single decryption.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { unbundle } from "../../bundle/unbundle";
import { InsufficientCapacityError } from "../../common/errors";
import type { Requester } from "./acl";
import type { WalrusService } from "./service";

export interface CachedImage {
  path: string;
  size: number;
}

export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly walrus: WalrusService,
    private readonly system: () => Requester,
    private readonly cloudKeyPem: () => string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(dir)) if (f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
  }

  /** The decrypted image of the bundle whose manifest is bucket/key. */
  get(bucket: string, key: string): Promise<CachedImage> {
    const manifest = this.walrus.readable(this.system(), bucket, key);
    const name = createHash("sha256").update(`${bucket}/${key}/${manifest.etag}`).digest("hex");
    const path = join(this.dir, `${name}.img`);
    if (existsSync(path)) {
      const now = new Date();
      utimesSync(path, now, now); // recently used
      return Promise.resolve({ path, size: statSync(path).size });
    }
    let p = this.inflight.get(name);
    if (!p) {
      p = this.fill(bucket, key, path).finally(() => this.inflight.delete(name));
      this.inflight.set(name, p);
    }
    return p;
  }

  private async fill(bucket: string, key: string, path: string): Promise<CachedImage> {
    const chunks: Buffer[] = [];
    for await (const c of this.walrus.open(this.walrus.readable(this.system(), bucket, key))) chunks.push(c as Buffer);
    const manifestXml = Buffer.concat(chunks).toString("utf8");
    const size = Number(/<size>(\d+)<\/size>/.exec(manifestXml)?.[1] ?? 0);
    this.makeRoom(size);
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await unbundle({
        manifestXml,
        cloudKeyPem: this.cloudKeyPem(),
        out: createWriteStream(tmp, { mode: 0o600 }),
        openPart: async (filename) => this.walrus.open(this.walrus.readable(this.system(), bucket, filename)),
      });
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { path, size: statSync(path).size };
  }

  /** Evicts least recently used entries until `incoming` bytes fit. */
  private makeRoom(incoming: number): void {
    if (incoming > this.maxBytes) throw new InsufficientCapacityError(`the image (${incoming} bytes) is larger than the whole image cache (${this.maxBytes} bytes)`);
    const entries = readdirSync(this.dir).filter((f) => f.endsWith(".img")).map((f) => {
      const st = statSync(join(this.dir, f));
      return { f, size: st.size, used: st.mtimeMs };
    }).sort((a, b) => a.used - b.used);
    let total = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries) {
      if (total + incoming <= this.maxBytes) break;
      rmSync(join(this.dir, e.f), { force: true });
      total -= e.size;
    }
  }
}
