/**
 * A directory of files bounded in bytes: an entry is produced once (concurrent
 * requests share one production), written to a temporary name and renamed into place,
 * touched on every hit, and the least recently used entries are evicted to make room.
 * Leftover temporary files are removed when the cache is opened.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { InsufficientCapacityError } from "./errors";

export interface CachedFile {
  path: string;
  size: number;
}

/** What a miss produces: the entry's size (known before writing) and how to write it. */
export interface Production {
  size: number;
  write(tmpPath: string): Promise<void>;
}

export class FileCache {
  private readonly inflight = new Map<string, Promise<CachedFile>>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(dir)) if (f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
  }

  /** The entry `name`, produced by `produce` when missing. */
  get(name: string, produce: () => Promise<Production>): Promise<CachedFile> {
    const path = join(this.dir, name);
    if (existsSync(path)) {
      const now = new Date();
      utimesSync(path, now, now); // recently used
      return Promise.resolve({ path, size: statSync(path).size });
    }
    let p = this.inflight.get(name);
    if (!p) {
      p = this.fill(path, produce).finally(() => this.inflight.delete(name));
      this.inflight.set(name, p);
    }
    return p;
  }

  private async fill(path: string, produce: () => Promise<Production>): Promise<CachedFile> {
    const production = await produce();
    this.makeRoom(production.size);
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await production.write(tmp);
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { path, size: statSync(path).size };
  }

  /** Evicts least recently used entries until `incoming` bytes fit. */
  private makeRoom(incoming: number): void {
    if (incoming > this.maxBytes)
      throw new InsufficientCapacityError(`${incoming} bytes do not fit in the ${this.what} (${this.maxBytes} bytes)`);
    const entries = readdirSync(this.dir)
      .filter((f) => !f.endsWith(".tmp"))
      .map((f) => ({ f, ...statSync(join(this.dir, f)) }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
    let total = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries) {
      if (total + incoming <= this.maxBytes) break;
      rmSync(join(this.dir, e.f), { force: true });
      total -= e.size;
    }
  }
}
