/**
 * Snapshots as content-addressed chunks in Walrus (DESIGN: "Snapshots go to Walrus as
 * content-addressed 512 KiB chunks"): a snapshot reads a point-in-time copy of its volume,
 * uploads only the chunks this SC does not hold already (so a second snapshot of a volume
 * sends what changed, and equal data is stored once), then its manifest. Chunks are
 * reference-counted by completed snapshots; deleting one frees exactly the chunks no other
 * uses. A volume made from a snapshot streams its chunks back (from any zone: manifests
 * name where their chunks are).
 *
 * Walrus layout, in one bucket of the cloud's account: `manifests/<snap-id>.json` and
 * `chunks/<zone>/<sha256>` (each SC counts its own zone's chunks).
 */
import { Readable } from "node:stream";
import { open } from "node:fs/promises";
import { eq, inArray, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { WalrusClient } from "../walrus/client";
import type { CallContext } from "../../rpc/types";
import { NotFoundError } from "../../common/errors";
import { CHUNK_SIZE, dataChunks, forEachChunk, type Manifest } from "./chunks";
import type { ProgramRunner } from "../../common/run-program";
import { scChunks, scSnapshots, type ScDatabase } from "./database";

export const SNAPSHOT_BUCKET = "euca-snapshots";
/** The volume an imported snapshot names, as EC2 names it (it was made from no volume). */
export const IMPORTED_VOLUME = "vol-ffffffff";
const PARALLEL = 4;
/** Restores wait on Walrus' reads more than on the disk: more at a time. */
const RESTORE_PARALLEL = 8;

const manifestKey = (snapshotId: string) => `manifests/${snapshotId}.json`;

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export function createSnapshotStore(o: {
  zone: string;
  db: ScDatabase;
  walrus: () => WalrusClient | undefined;
  run: ProgramRunner;
  log: Logger;
}) {
  const { db, sqlite } = o.db;
  const prefix = `chunks/${o.zone}/`;
  const walrus = () => {
    const w = o.walrus();
    if (!w) throw new Error("no Walrus to keep snapshots in (this host needs --walrus-url and an installed key)");
    return w;
  };

  async function putChunk(sha256: string, data: Buffer, ctx: CallContext): Promise<boolean> {
    const known = db.select().from(scChunks).where(eq(scChunks.sha256, sha256)).get();
    if (known?.stored) return false;
    if (!known)
      db.insert(scChunks).values({ sha256, refs: 0, bytes: data.length, stored: false }).onConflictDoNothing().run();
    await walrus().putObject(
      { bucket: SNAPSHOT_BUCKET, key: `${prefix}${sha256}` },
      { open: () => Readable.from([data]), size: data.length, contentType: "application/octet-stream" },
      ctx,
    );
    db.update(scChunks).set({ stored: true }).where(eq(scChunks.sha256, sha256)).run();
    return true;
  }

  /** Chunks no completed snapshot uses, once no snapshot is being taken that might: gone from Walrus and from the table. */
  async function collect(ctx: CallContext): Promise<number> {
    if (db.select().from(scSnapshots).where(eq(scSnapshots.state, "pending")).get()) return 0;
    const unused = db.select().from(scChunks).where(eq(scChunks.refs, 0)).all();
    for (const c of unused) {
      await walrus()
        .deleteObject({ bucket: SNAPSHOT_BUCKET, key: `${prefix}${c.sha256}` }, ctx)
        .catch((e: { kind?: string }) => {
          if (e.kind !== "NotFound") throw e;
        });
      db.delete(scChunks).where(eq(scChunks.sha256, c.sha256)).run();
    }
    return unused.length;
  }

  async function manifestOf(snapshotId: string, ctx: CallContext): Promise<Manifest> {
    const got = await walrus()
      .getObject({ bucket: SNAPSHOT_BUCKET, key: manifestKey(snapshotId) }, ctx)
      .catch((e: { kind?: string }) => {
        if (e.kind === "NotFound") throw new NotFoundError("snapshot", snapshotId);
        throw e;
      });
    return JSON.parse((await readAll(got.body)).toString("utf8")) as Manifest;
  }

  return {
    /**
     * Takes the snapshot of `path` (a raw point-in-time copy the caller made and removes
     * afterwards): chunks up, then the manifest, then the counts in one transaction.
     */
    async take(
      s: { snapshotId: string; volumeId: string; sizeBytes: number; path: string },
      ctx: CallContext,
    ): Promise<Manifest> {
      await walrus().ensureBucket(SNAPSHOT_BUCKET, ctx);
      const offsets = await dataChunks(s.path, o.run);
      let uploaded = 0;
      let uploadedBytes = 0;
      let lastPercent = -1;
      const chunks = await forEachChunk(
        s.path,
        offsets,
        async (c) => {
          if (await putChunk(c.sha256, c.data, ctx)) {
            uploaded++;
            uploadedBytes += c.data.length;
          }
        },
        {
          parallel: PARALLEL,
          progress: (done, of) => {
            const percent = of ? Math.floor((done * 99) / of) : 99; // 100 only once the manifest is in
            if (percent !== lastPercent)
              db.update(scSnapshots)
                .set({ progress: (lastPercent = percent) })
                .where(eq(scSnapshots.id, s.snapshotId))
                .run();
          },
        },
      );
      const manifest: Manifest = {
        version: 1,
        snapshotId: s.snapshotId,
        volumeId: s.volumeId,
        sizeBytes: s.sizeBytes,
        chunkSize: CHUNK_SIZE,
        prefix,
        chunks,
      };
      const body = Buffer.from(JSON.stringify(manifest));
      await walrus().putObject(
        { bucket: SNAPSHOT_BUCKET, key: manifestKey(s.snapshotId) },
        { open: () => Readable.from([body]), size: body.length, contentType: "application/json" },
        ctx,
      );
      const distinct = [...new Set(chunks.map(([, h]) => h))];
      sqlite.transaction(() => {
        for (let i = 0; i < distinct.length; i += 500) {
          db.update(scChunks)
            .set({ refs: sql`${scChunks.refs} + 1` })
            .where(inArray(scChunks.sha256, distinct.slice(i, i + 500)))
            .run();
        }
        db.update(scSnapshots)
          .set({ state: "completed", progress: 100, chunks: chunks.length, uploaded, uploadedBytes })
          .where(eq(scSnapshots.id, s.snapshotId))
          .run();
      })();
      o.log.info(
        {
          requestId: ctx.requestId,
          snapshotId: s.snapshotId,
          chunks: chunks.length,
          uploaded,
          uploadedBytes,
          read: offsets.length,
        },
        "sc: snapshot completed",
      );
      await collect(ctx); // what a deletion left while this one was being taken
      return manifest;
    },

    /**
     * CopySnapshot: a second snapshot of the same chunks — a manifest naming them and one more
     * reference on each; no chunk is read or sent. The copy's row is completed in the same step.
     */
    async copy(from: string, to: { snapshotId: string; sizeGiB: number; volumeId: string }, ctx: CallContext) {
      const m = await manifestOf(from, ctx);
      const body = Buffer.from(JSON.stringify({ ...m, snapshotId: to.snapshotId }));
      await walrus().putObject(
        { bucket: SNAPSHOT_BUCKET, key: manifestKey(to.snapshotId) },
        { open: () => Readable.from([body]), size: body.length, contentType: "application/json" },
        ctx,
      );
      const distinct = [...new Set(m.chunks.map(([, h]) => h))];
      sqlite.transaction(() => {
        for (let i = 0; i < distinct.length; i += 500)
          db.update(scChunks)
            .set({ refs: sql`${scChunks.refs} + 1` })
            .where(inArray(scChunks.sha256, distinct.slice(i, i + 500)))
            .run();
        db.update(scSnapshots)
          .set({ state: "completed", progress: 100, chunks: m.chunks.length, uploaded: 0, uploadedBytes: 0 })
          .where(eq(scSnapshots.id, to.snapshotId))
          .run();
      })();
      o.log.info(
        { requestId: ctx.requestId, snapshotId: to.snapshotId, from, chunks: m.chunks.length },
        "sc: snapshot copied (its chunks shared)",
      );
    },

    /**
     * ImportSnapshot: a disk image (raw) the user uploaded to Walrus, written into `path` (a
     * sparse file of the snapshot's size: runs of zeros are not written) and taken from there.
     */
    async fromObject(
      s: { snapshotId: string; bucket: string; key: string; sizeBytes: number; path: string },
      ctx: CallContext,
    ): Promise<Manifest> {
      const got = await walrus().getObject({ bucket: s.bucket, key: s.key }, ctx);
      const fh = await open(s.path, "w", 0o600);
      try {
        await fh.truncate(s.sizeBytes);
        let at = 0;
        for await (const part of got.body) {
          const b = part as Buffer;
          if (at + b.length > s.sizeBytes) throw new Error("the disk image is larger than its snapshot");
          if (b.some((x) => x !== 0)) await fh.write(b, 0, b.length, at);
          at += b.length;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      return this.take(
        { snapshotId: s.snapshotId, volumeId: IMPORTED_VOLUME, sizeBytes: s.sizeBytes, path: s.path },
        ctx,
      );
    },

    /** A snapshot that did not complete: its manifest (if any) goes, and the chunks only it had. */
    async abandon(snapshotId: string, ctx: CallContext): Promise<void> {
      await walrus()
        .deleteObject({ bucket: SNAPSHOT_BUCKET, key: manifestKey(snapshotId) }, ctx)
        .catch(() => undefined);
      await collect(ctx);
    },

    /** Frees what only this snapshot used. */
    async remove(snapshotId: string, ctx: CallContext): Promise<void> {
      const m = await manifestOf(snapshotId, ctx).catch((e) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      if (m) {
        const distinct = [...new Set(m.chunks.map(([, h]) => h))];
        sqlite.transaction(() => {
          for (let i = 0; i < distinct.length; i += 500) {
            db.update(scChunks)
              .set({ refs: sql`${scChunks.refs} - 1` })
              .where(inArray(scChunks.sha256, distinct.slice(i, i + 500)))
              .run();
          }
        })();
        await walrus()
          .deleteObject({ bucket: SNAPSHOT_BUCKET, key: manifestKey(snapshotId) }, ctx)
          .catch(() => undefined);
      }
      db.delete(scSnapshots).where(eq(scSnapshots.id, snapshotId)).run();
      await collect(ctx);
    },

    /** Writes the snapshot's chunks into `path` (a sparse file of at least its size), a few at a time. */
    async restore(snapshotId: string, path: string, ctx: CallContext): Promise<{ chunks: number; bytes: number }> {
      const m = await manifestOf(snapshotId, ctx);
      const fh = await open(path, "r+");
      let next = 0;
      let bytes = 0;
      try {
        const worker = async () => {
          for (let i = next++; i < m.chunks.length; i = next++) {
            const [offset, sha] = m.chunks[i]!;
            const got = await walrus().getObject({ bucket: SNAPSHOT_BUCKET, key: `${m.prefix}${sha}` }, ctx);
            const data = await readAll(got.body);
            const want = Math.min(m.chunkSize, m.sizeBytes - offset);
            await fh.write(data, 0, Math.min(data.length, want), offset);
            bytes += data.length;
          }
        };
        await Promise.all(Array.from({ length: RESTORE_PARALLEL }, worker));
        await fh.sync();
      } finally {
        await fh.close();
      }
      return { chunks: m.chunks.length, bytes };
    },

    /** After a restart: snapshots cut short are in error and what they uploaded is collected. */
    async recover(ctx: CallContext): Promise<void> {
      const cut = db.select().from(scSnapshots).where(eq(scSnapshots.state, "pending")).all();
      for (const s of cut) {
        db.update(scSnapshots)
          .set({ state: "error", reason: "the storage controller restarted while it was being taken" })
          .where(eq(scSnapshots.id, s.id))
          .run();
        await walrus()
          .deleteObject({ bucket: SNAPSHOT_BUCKET, key: manifestKey(s.id) }, ctx)
          .catch(() => undefined);
      }
      for (const s of db.select().from(scSnapshots).where(eq(scSnapshots.state, "deleting")).all())
        await this.remove(s.id, ctx);
      // Chunks only snapshots cut short had (and rows whose upload a crash interrupted) go.
      if (db.select().from(scChunks).where(eq(scChunks.refs, 0)).get()) await collect(ctx);
    },
  };
}

export type SnapshotStore = ReturnType<typeof createSnapshotStore>;
