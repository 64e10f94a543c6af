/**
 * The storage controller of one zone: the volumes it holds (its database is the record,
 * the backend the bytes), their limits (Eucalyptus' MAX_VOLUME_SIZE and total), and
 * their exports to the nodes that attach them. A volume is made in the background, so
 * the caller sees `creating` and then `available` (or `error`, with why); a restart
 * finishes what a crash interrupted.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isResourceId } from "../../common/ids";
import {
  IncorrectStateError,
  InsufficientCapacityError,
  InvalidParameterError,
  NotFoundError,
  UnavailableError,
} from "../../common/errors";
import { GIB, type VolumeBackend } from "./backends/types";
import type { StorageClient, StoredSnapshot, StoredVolume } from "./client";
import { scExports, scSnapshots, scVolumes, type ScDatabase } from "./database";
import type { SnapshotStore } from "./snapshots";
import { snapshotCopies } from "./snapshot-copies";
import type { RestoreCache } from "./restore-cache";
import type { NbdExporter } from "./nbd-exports";
import type { IscsiExporter } from "./iscsi-exports";

export interface StorageLimits {
  /** Largest volume, GiB (Eucalyptus' MAX_VOLUME_SIZE). */
  maxVolumeGiB: number;
  /** All volumes of this SC together, GiB (MAX_TOTAL_VOLUME_SIZE). */
  maxTotalGiB: number;
}

export function createStorageService(o: {
  zone: string;
  db: ScDatabase;
  backend: VolumeBackend;
  limits: StorageLimits;
  clock: Clock;
  log: Logger;
  /** Snapshots' chunks (absent: snapshots and restores are refused as unavailable). */
  snapshots?: SnapshotStore;
  /** Where point-in-time copies are made for snapshots (on the volumes' filesystem, for reflinks). */
  stagingDir: string;
  /** Exports to nodes on other hosts (absent: only nodes on this host can attach). */
  nbd?: NbdExporter;
  /** SC_EXPORT=iscsi: tgt instead of NBD for nodes on other hosts. */
  iscsi?: IscsiExporter;
  /** Local copies of the snapshots restored last (absent: every restore fetches its chunks). */
  restoreCache?: RestoreCache;
}): StorageClient & { recover(): Promise<void>; drain(): Promise<void> } {
  const { db, sqlite } = o.db;
  mkdirSync(o.stagingDir, { recursive: true, mode: 0o700 });
  const inflight = new Set<Promise<void>>();
  const row = (id: string) => db.select().from(scVolumes).where(eq(scVolumes.id, id)).get();
  const toStored = (r: typeof scVolumes.$inferSelect): StoredVolume => ({
    volumeId: r.id,
    sizeGiB: r.sizeGiB,
    state: r.state,
    ...(r.reason ? { reason: r.reason } : {}),
  });
  const toSnapshot = (r: typeof scSnapshots.$inferSelect): StoredSnapshot => ({
    snapshotId: r.id,
    volumeId: r.volumeId,
    sizeGiB: r.sizeGiB,
    state: r.state,
    progress: r.progress,
    chunks: r.chunks,
    uploaded: r.uploaded,
    uploadedBytes: r.uploadedBytes,
    ...(r.reason ? { reason: r.reason } : {}),
  });
  const store = () => {
    if (!o.snapshots) throw new UnavailableError(`The storage controller of ${o.zone} has no Walrus for snapshots`);
    return o.snapshots;
  };
  const checkId = (id: unknown) => {
    if (!isResourceId("volume", id)) throw new InvalidParameterError("VolumeId", `'${String(id)}' is not a volume id`);
    return id;
  };
  const used = () =>
    db
      .select({ s: scVolumes.sizeGiB })
      .from(scVolumes)
      .where(ne(scVolumes.state, "deleting"))
      .all()
      .reduce((n, r) => n + r.s, 0);

  function inBackground(work: () => Promise<void>): void {
    const p = work().finally(() => inflight.delete(p));
    inflight.add(p);
  }

  function make(volumeId: string, sizeGiB: number, requestId: string, snapshotId?: string): void {
    inBackground(async () => {
      try {
        await o.backend.create(volumeId, sizeGiB);
        // Writing every chunk again is the same volume: a restore cut short is simply done again.
        if (snapshotId) {
          const target = o.backend.restoreTarget(volumeId).path;
          const snap = db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get();
          // Snapshots this SC holds go through its local copies; another zone's are fetched each time.
          const r =
            o.restoreCache && snap
              ? await o.restoreCache.restore(store(), snapshotId, snap.sizeGiB * GIB, target, { requestId })
              : await store().restore(snapshotId, target, { requestId });
          o.log.info({ requestId, volumeId, snapshotId, ...r }, "sc: volume restored from its snapshot");
        }
        db.update(scVolumes).set({ state: "available" }).where(eq(scVolumes.id, volumeId)).run();
        o.log.info({ requestId, volumeId, sizeGiB, backend: o.backend.name }, "sc: volume made");
      } catch (e) {
        db.update(scVolumes)
          .set({ state: "error", reason: (e as Error).message.slice(0, 500) })
          .where(eq(scVolumes.id, volumeId))
          .run();
        o.log.error({ requestId, volumeId, err: (e as Error).message }, "sc: making the volume failed");
      }
    });
  }

  function remove(volumeId: string, requestId: string): void {
    inBackground(async () => {
      try {
        await o.backend.remove(volumeId);
        sqlite.transaction(() => {
          db.delete(scExports).where(eq(scExports.volumeId, volumeId)).run();
          db.delete(scVolumes).where(eq(scVolumes.id, volumeId)).run();
        })();
        o.log.info({ requestId, volumeId }, "sc: volume removed");
      } catch (e) {
        db.update(scVolumes)
          .set({ state: "error", reason: (e as Error).message.slice(0, 500) })
          .where(eq(scVolumes.id, volumeId))
          .run();
      }
    });
  }

  return {
    async describeStorage() {
      return {
        zone: o.zone,
        backend: o.backend.name,
        maxVolumeGiB: o.limits.maxVolumeGiB,
        maxTotalGiB: o.limits.maxTotalGiB,
        usedGiB: used(),
      };
    },

    async createVolume({ volumeId, sizeGiB, snapshotId }, ctx) {
      const id = checkId(volumeId);
      if (!Number.isInteger(sizeGiB) || sizeGiB < 1)
        throw new InvalidParameterError(
          "Size",
          `The volume size must be a whole number of GiB from 1, not ${String(sizeGiB)}`,
        );
      if (sizeGiB > o.limits.maxVolumeGiB)
        throw new InvalidParameterError("Size", `Volumes in ${o.zone} are at most ${o.limits.maxVolumeGiB} GiB`);
      const made = sqlite
        .transaction(() => {
          const prior = row(id);
          if (prior) {
            if (prior.sizeGiB !== sizeGiB)
              throw new InvalidParameterError("VolumeId", `${id} exists with another size`, "idempotency-mismatch");
            return { stored: toStored(prior), fresh: false };
          }
          if (used() + sizeGiB > o.limits.maxTotalGiB) {
            throw new InsufficientCapacityError(
              `Not enough storage in ${o.zone}: ${o.limits.maxTotalGiB - used()} of ${o.limits.maxTotalGiB} GiB left`,
              "volumes",
            );
          }
          db.insert(scVolumes)
            .values({ id, sizeGiB, state: "creating", snapshotId: snapshotId ?? null, createdAt: o.clock.now() })
            .run();
          return { stored: toStored(row(id)!), fresh: true };
        })
        .immediate();
      if (made.fresh) make(id, sizeGiB, ctx.requestId, snapshotId);
      return made.stored;
    },

    async describeVolumes({ volumeIds }) {
      const rows = volumeIds?.length
        ? db.select().from(scVolumes).where(inArray(scVolumes.id, volumeIds)).all()
        : db.select().from(scVolumes).all();
      return { volumes: rows.map(toStored) };
    },

    async deleteVolume({ volumeId }, ctx) {
      const id = checkId(volumeId);
      const r = row(id);
      if (!r || r.state === "deleting") return;
      const exported = db.select().from(scExports).where(eq(scExports.volumeId, id)).get();
      if (exported) throw new IncorrectStateError(`${id} is attached to ${exported.instanceId}`, "volume-in-use");
      if (r.state === "creating") throw new IncorrectStateError(`${id} is still being made`);
      db.update(scVolumes).set({ state: "deleting" }).where(eq(scVolumes.id, id)).run();
      remove(id, ctx.requestId);
    },

    async exportVolume({ volumeId, instanceId, local }) {
      const id = checkId(volumeId);
      const r = row(id);
      if (!r) throw new NotFoundError("volume", id);
      if (r.state !== "available") throw new IncorrectStateError(`${id} is ${r.state}`);
      const kind = local ? ("file" as const) : o.iscsi ? ("iscsi" as const) : ("nbd" as const);
      const loc = kind === "file" ? o.backend.locate(id) : o.backend.exportSource(id, kind);
      if (!loc) throw new IncorrectStateError(`${id} has no data on this storage controller`);
      sqlite.transaction(() => {
        const held = db.select().from(scExports).where(eq(scExports.volumeId, id)).get();
        if (held && held.instanceId !== instanceId)
          throw new IncorrectStateError(`${id} is attached to ${held.instanceId}`, "volume-in-use");
        if (!held) db.insert(scExports).values({ volumeId: id, instanceId, kind, createdAt: o.clock.now() }).run();
      })();
      if (local) return { kind: "file", path: loc.path, format: loc.format };
      if (o.iscsi) {
        try {
          return { kind: "iscsi", ...(await o.iscsi.start(id, instanceId, loc.path)) };
        } catch (e) {
          db.delete(scExports).where(eq(scExports.volumeId, id)).run();
          throw e;
        }
      }
      if (!o.nbd)
        throw new UnavailableError(
          `The storage controller of ${o.zone} cannot export volumes to other hosts (no qemu-storage-daemon)`,
        );
      const used = new Set(
        db
          .select({ p: scExports.port })
          .from(scExports)
          .all()
          .flatMap((x) => (x.p ? [x.p] : [])),
      );
      try {
        const e = await o.nbd.start(id, instanceId, loc.path, loc.format, used);
        db.update(scExports).set({ port: e.port }).where(eq(scExports.volumeId, id)).run();
        return { kind: "nbd", ...e };
      } catch (e) {
        db.delete(scExports).where(eq(scExports.volumeId, id)).run();
        throw e;
      }
    },

    async unexportVolume({ volumeId, instanceId }) {
      const id = checkId(volumeId);
      const held = db
        .select()
        .from(scExports)
        .where(and(eq(scExports.volumeId, id), eq(scExports.instanceId, instanceId)))
        .get();
      if (!held) return;
      if (held.kind === "nbd") await o.nbd?.stop(id);
      if (held.kind === "iscsi") await o.iscsi?.stop(id);
      db.delete(scExports).where(eq(scExports.volumeId, id)).run();
    },

    /** After a restart: a volume being made is made again (its file is made whole or not at all); one being removed is removed. */
    async recover() {
      for (const r of db
        .select()
        .from(scVolumes)
        .where(inArray(scVolumes.state, ["creating", "deleting"]))
        .all()) {
        if (r.state === "creating") make(r.id, r.sizeGiB, "sc-start", r.snapshotId ?? undefined);
        else remove(r.id, "sc-start");
      }
      for (const f of readdirSync(o.stagingDir)) rmSync(join(o.stagingDir, f), { force: true }); // copies of snapshots cut short
      o.restoreCache?.recover();
      // NBD exports whose daemon is gone are served again (same port and key: the node reconnects); unrecorded ones end.
      if (o.nbd) {
        const running = o.nbd.running();
        for (const e of db.select().from(scExports).where(eq(scExports.kind, "nbd")).all()) {
          const loc = o.backend.locate(e.volumeId);
          if (!running.has(e.volumeId) && loc)
            await o.nbd
              .start(e.volumeId, e.instanceId, loc.path, loc.format, new Set())
              .catch((err: Error) =>
                o.log.error({ volumeId: e.volumeId, err: err.message }, "sc: the NBD export could not be served again"),
              );
          running.delete(e.volumeId);
        }
        for (const v of running.keys()) await o.nbd.stop(v);
      }
      if (o.snapshots)
        await o.snapshots
          .recover({ requestId: "sc-start" })
          .catch((e: Error) =>
            o.log.error({ err: e.message }, "sc: recovering snapshots failed; retried at the next start"),
          );
      // Files no record names (a crash between the file and its record): not this SC's to keep.
      const known = new Set(
        db
          .select({ id: scVolumes.id })
          .from(scVolumes)
          .all()
          .map((x) => x.id),
      );
      for (const id of await o.backend.list()) {
        if (!known.has(id)) {
          await o.backend.remove(id);
          o.log.warn({ volumeId: id }, "sc: removed a volume file no record names");
        }
      }
    },

    async createSnapshot({ snapshotId, volumeId }, ctx) {
      if (!isResourceId("snapshot", snapshotId))
        throw new InvalidParameterError("SnapshotId", `'${String(snapshotId)}' is not a snapshot id`);
      const id = checkId(volumeId);
      const prior = db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get();
      if (prior) return toSnapshot(prior);
      const v = row(id);
      const loc = o.backend.locate(id);
      if (!v || !loc) throw new NotFoundError("volume", id);
      if (v.state !== "available") throw new IncorrectStateError(`${id} is ${v.state}`);
      const s = store();
      db.insert(scSnapshots)
        .values({ id: snapshotId, volumeId: id, sizeGiB: v.sizeGiB, state: "pending", createdAt: o.clock.now() })
        .run();
      // The point-in-time copy, before answering (a reflink where the filesystem has them; else a sparse copy).
      const copy = join(o.stagingDir, `${snapshotId}.raw`);
      // Exported to another host: its NBD daemon holds the file still while it is copied (a local attachment is held by its node).
      const exported = db.select().from(scExports).where(eq(scExports.volumeId, id)).get();
      const hold = exported?.kind === "nbd" && o.nbd ? o.nbd : undefined;
      if (hold) await hold.hold(id, loc.path, loc.format);
      const failed = await o.backend
        .copyAt(id, copy)
        .then(() => undefined)
        .catch((e: Error) => e.message)
        .finally(() => hold?.release(id));
      if (failed !== undefined) {
        rmSync(copy, { force: true });
        db.update(scSnapshots)
          .set({ state: "error", reason: failed.slice(0, 500) })
          .where(eq(scSnapshots.id, snapshotId))
          .run();
        throw new IncorrectStateError(`${id} could not be copied for its snapshot: ${failed.slice(0, 200)}`);
      }
      inBackground(async () => {
        try {
          await s.take({ snapshotId, volumeId: id, sizeBytes: v.sizeGiB * GIB, path: copy }, ctx);
        } catch (e) {
          db.update(scSnapshots)
            .set({ state: "error", reason: (e as Error).message.slice(0, 500) })
            .where(eq(scSnapshots.id, snapshotId))
            .run();
          o.log.error({ requestId: ctx.requestId, snapshotId, err: (e as Error).message }, "sc: the snapshot failed");
          await s.abandon(snapshotId, ctx).catch(() => undefined);
        } finally {
          rmSync(copy, { force: true });
        }
      });
      return toSnapshot(db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get()!);
    },

    async describeSnapshots({ snapshotIds }) {
      const rows = snapshotIds?.length
        ? db.select().from(scSnapshots).where(inArray(scSnapshots.id, snapshotIds)).all()
        : db.select().from(scSnapshots).all();
      return { snapshots: rows.map(toSnapshot) };
    },

    ...snapshotCopies({
      db: o.db,
      clock: o.clock,
      log: o.log,
      stagingDir: o.stagingDir,
      store,
      toSnapshot,
      inBackground,
    }),

    async deleteSnapshot({ snapshotId }, ctx) {
      const r = db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get();
      if (!r || r.state === "deleting") return;
      if (r.state === "pending") throw new IncorrectStateError(`${snapshotId} is still being taken`);
      db.update(scSnapshots).set({ state: "deleting" }).where(eq(scSnapshots.id, snapshotId)).run();
      const s = store();
      inBackground(async () => {
        try {
          await s.remove(snapshotId, ctx);
          o.restoreCache?.forget(snapshotId);
          o.log.info({ requestId: ctx.requestId, snapshotId }, "sc: snapshot deleted");
        } catch (e) {
          o.log.error(
            { requestId: ctx.requestId, snapshotId, err: (e as Error).message },
            "sc: deleting the snapshot failed; retried at the next start",
          );
        }
      });
    },

    async drain() {
      await Promise.all([...inflight]);
    },
  };
}
