/**
 * EBS snapshots as EC2 users see them: taken by the SC of the volume's zone (chunks in
 * Walrus), restorable in any zone by their owner and by whom the owner lets
 * (createVolumePermission: account ids, or "all").
 */
import { and, eq, inArray, or } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { IncorrectStateError, InvalidParameterError, NotFoundError, UnavailableError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import type { ClcDatabase } from "../database";
import { idIn, idIs } from "./id-match";
import type { Caller } from "./instances";
import { snapshotPermissions, snapshots, volumes } from "../schema";
import type { Zone } from "./volumes";
import type { WalrusClient } from "../../walrus/client";

export type SnapshotRecord = typeof snapshots.$inferSelect;

export function createSnapshotService(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  zones: () => Zone[];
  log: Logger;
  /** Whether a guest runs the instance now (a stopped one's volumes are at rest: nothing to hold still). */
  running: (instanceId: string) => boolean;
  /** Where ImportSnapshot reads the user's disk image. */
  walrus: () => WalrusClient | undefined;
}) {
  const { db, sqlite } = o.db;
  const storageOf = (zone: string) => {
    const s = o.zones().find((z) => z.name === zone)?.storage;
    if (!s) throw new UnavailableError(`The zone ${zone} has no storage controller`);
    return s;
  };
  const grantees = (id: string) =>
    db
      .select({ g: snapshotPermissions.grantee })
      .from(snapshotPermissions)
      .where(eq(snapshotPermissions.snapshotId, id))
      .all()
      .map((r) => r.g);
  const mayRestore = (caller: Caller, r: SnapshotRecord) =>
    caller.isAdmin ||
    r.accountId === caller.accountId ||
    grantees(r.id).some((g) => g === "all" || g === caller.accountId);

  function owned(caller: Caller, id: string): SnapshotRecord {
    const r = db.select().from(snapshots).where(idIs(snapshots.id, id)).get();
    if (!r || (r.accountId !== caller.accountId && !caller.isAdmin)) throw new NotFoundError("snapshot", id);
    return r;
  }

  /** Pending snapshots' progress from their SCs. */
  async function refresh(rows: SnapshotRecord[], ctx: CallContext): Promise<void> {
    for (const zone of new Set(rows.map((r) => r.zone))) {
      const s = o.zones().find((z) => z.name === zone)?.storage;
      if (!s) continue;
      const list = rows.filter((r) => r.zone === zone);
      let stored: Awaited<ReturnType<typeof s.describeSnapshots>>["snapshots"];
      try {
        stored = (await s.describeSnapshots({ snapshotIds: list.map((r) => r.id) }, ctx)).snapshots;
      } catch {
        continue;
      }
      for (const r of list) {
        const x = stored.find((y) => y.snapshotId === r.id);
        const state = !x ? "error" : x.state === "deleting" ? r.state : x.state;
        db.update(snapshots)
          .set({ state, progress: x?.progress ?? r.progress })
          .where(eq(snapshots.id, r.id))
          .run();
      }
    }
  }

  return {
    /** The point-in-time copy is made when this answers; the upload goes on (`pending`, with progress). */
    async create(
      caller: Caller,
      input: { volumeId: string; description?: string },
      ctx: CallContext,
    ): Promise<SnapshotRecord> {
      const v = db.select().from(volumes).where(idIs(volumes.id, input.volumeId)).get();
      if (!v || v.state === "deleted" || (v.accountId !== caller.accountId && !caller.isAdmin))
        throw new NotFoundError("volume", input.volumeId);
      if (v.state !== "available" && v.state !== "in-use")
        throw new IncorrectStateError(`Volume ${v.id} is ${v.state}`);
      if ((input.description ?? "").length > 255)
        throw new InvalidParameterError("Description", "A description is at most 255 characters");
      const id = o.ids.resourceId("snapshot");
      const storage = storageOf(v.zone);
      // Attached to a guest that runs: its node holds the file still while the SC copies it (crash-consistent), then lets go.
      const cluster =
        v.instanceId && v.attachState === "attached" && o.running(v.instanceId)
          ? o.zones().find((z) => z.name === v.zone)?.cluster
          : undefined;
      const held =
        cluster && v.instanceId
          ? await cluster.freezeVolume({ instanceId: v.instanceId, volumeId: v.id }, ctx)
          : undefined;
      if (held && !held.frozen && !held.heldByStorage)
        o.log.warn(
          { requestId: ctx.requestId, volumeId: v.id },
          "clc: the hypervisor cannot hold the volume still; the snapshot is read while the guest writes",
        );
      let stored: Awaited<ReturnType<typeof storage.createSnapshot>>;
      try {
        stored = await storage.createSnapshot({ snapshotId: id, volumeId: v.id }, ctx);
      } finally {
        if (held?.frozen) await cluster!.thawVolume({ instanceId: v.instanceId!, volumeId: v.id }, ctx);
      }
      const row = {
        id,
        accountId: v.accountId,
        volumeId: v.id,
        zone: v.zone,
        sizeGiB: v.sizeGiB,
        description: input.description ?? "",
        state: stored.state === "completed" ? ("completed" as const) : ("pending" as const),
        progress: stored.progress,
        startedAt: o.clock.now(),
        sourceSnapshotId: null,
      };
      db.insert(snapshots).values(row).run();
      o.log.info({ requestId: ctx.requestId, snapshotId: id, volumeId: v.id }, "clc: snapshot started");
      return row;
    },

    /**
     * CopySnapshot within the region: the caller's own snapshot of the same data (its chunks
     * shared at the source's SC, none read or sent), completed when this answers.
     */
    async copy(
      caller: Caller,
      input: { sourceSnapshotId: string; description?: string },
      ctx: CallContext,
    ): Promise<SnapshotRecord> {
      const src = db.select().from(snapshots).where(idIs(snapshots.id, input.sourceSnapshotId)).get();
      if (!src || !mayRestore(caller, src)) throw new NotFoundError("snapshot", input.sourceSnapshotId);
      if (src.state !== "completed") throw new IncorrectStateError(`The snapshot ${src.id} is ${src.state}`);
      if ((input.description ?? "").length > 255)
        throw new InvalidParameterError("Description", "A description is at most 255 characters");
      const id = o.ids.resourceId("snapshot");
      const stored = await storageOf(src.zone).copySnapshot({ snapshotId: id, sourceSnapshotId: src.id }, ctx);
      const row: SnapshotRecord = {
        id,
        accountId: caller.accountId,
        volumeId: src.volumeId,
        zone: src.zone,
        sizeGiB: src.sizeGiB,
        description: input.description ?? `Copied for DestinationSnapshot ${id} from SourceSnapshot ${src.id}`,
        state: stored.state === "completed" ? "completed" : "pending",
        progress: stored.progress,
        startedAt: o.clock.now(),
        sourceSnapshotId: src.id,
      };
      db.insert(snapshots).values(row).run();
      o.log.info({ requestId: ctx.requestId, snapshotId: id, from: src.id }, "clc: snapshot copied");
      return row;
    },

    /**
     * ImportSnapshot of a raw disk image the caller uploaded (a bucket they own): a snapshot
     * of its size rounded up to whole GiB, in the first zone with a storage controller,
     * `pending` while its SC reads and chunks it.
     */
    async importFrom(
      caller: Caller,
      input: { bucket: string; key: string; description?: string },
      ctx: CallContext,
    ): Promise<SnapshotRecord> {
      const walrus = o.walrus();
      if (!walrus) throw new UnavailableError("Walrus is not reachable from this cloud controller");
      const owner = await walrus.bucketOwner(input.bucket, ctx).catch(() => undefined);
      if (owner === undefined || (owner !== caller.accountId && !caller.isAdmin))
        throw new InvalidParameterError("DiskContainer.UserBucket", `You have no bucket named '${input.bucket}'`);
      const head = await walrus.headObject({ bucket: input.bucket, key: input.key }, ctx).catch(() => undefined);
      if (!head)
        throw new InvalidParameterError("DiskContainer.UserBucket", `There is no object ${input.bucket}/${input.key}`);
      if (head.size === 0) throw new InvalidParameterError("DiskContainer.UserBucket", "The disk image is empty");
      const zone = o.zones().find((z) => z.storage);
      if (!zone) throw new UnavailableError("No zone of this cloud has a storage controller");
      const id = o.ids.resourceId("snapshot");
      const sizeGiB = Math.ceil(head.size / 1024 ** 3);
      const stored = await zone.storage!.importSnapshot(
        { snapshotId: id, bucket: input.bucket, key: input.key, sizeGiB },
        ctx,
      );
      const row: SnapshotRecord = {
        id,
        accountId: caller.accountId,
        volumeId: stored.volumeId,
        zone: zone.name,
        sizeGiB,
        description: input.description ?? `Imported from ${input.bucket}/${input.key}`.slice(0, 255),
        state: "pending",
        progress: stored.progress,
        startedAt: o.clock.now(),
        sourceSnapshotId: null,
      };
      db.insert(snapshots).values(row).run();
      o.log.info(
        { requestId: ctx.requestId, snapshotId: id, bucket: input.bucket, key: input.key },
        "clc: snapshot import started",
      );
      return row;
    },

    /** Owner: "self", an account id, "amazon" (none here); restorableBy: "self", "all", an account id. */
    async describe(
      caller: Caller,
      q: { ids: readonly string[]; owners: readonly string[]; restorableBy: readonly string[] },
      ctx: CallContext,
    ): Promise<SnapshotRecord[]> {
      const conds = [];
      if (q.ids.length) conds.push(idIn(snapshots.id, q.ids));
      let rows = db
        .select()
        .from(snapshots)
        .where(conds.length ? and(...conds) : undefined)
        .orderBy(snapshots.startedAt)
        .all();
      // Visible: one's own, and those one may restore.
      rows = rows.filter((r) => mayRestore(caller, r));
      if (q.owners.length)
        rows = rows.filter((r) =>
          q.owners.some((w) => (w === "self" ? r.accountId === caller.accountId : w === r.accountId)),
        );
      if (q.restorableBy.length) {
        rows = rows.filter((r) =>
          q.restorableBy.some((w) => {
            const g = grantees(r.id);
            return w === "all"
              ? g.includes("all")
              : r.accountId === (w === "self" ? caller.accountId : w) ||
                  g.includes(w === "self" ? caller.accountId : w);
          }),
        );
      }
      for (const id of q.ids)
        if (!rows.some((r) => r.id.toLowerCase() === id.toLowerCase())) throw new NotFoundError("snapshot", id);
      const pending = rows.filter((r) => r.state === "pending");
      if (pending.length) {
        await refresh(pending, ctx);
        const fresh = new Map(
          db
            .select()
            .from(snapshots)
            .where(
              inArray(
                snapshots.id,
                pending.map((r) => r.id),
              ),
            )
            .all()
            .map((r) => [r.id, r]),
        );
        rows = rows.map((r) => fresh.get(r.id) ?? r);
      }
      return rows;
    },

    async delete(caller: Caller, id: string, ctx: CallContext): Promise<void> {
      const r = owned(caller, id);
      const making = db
        .select()
        .from(volumes)
        .where(and(eq(volumes.snapshotId, r.id), eq(volumes.state, "creating")))
        .get();
      if (making)
        throw new IncorrectStateError(`The snapshot ${r.id} is being restored into ${making.id}`, "snapshot-in-use");
      if (r.state === "pending")
        throw new IncorrectStateError(`The snapshot ${r.id} is still being taken`, "snapshot-in-use");
      await storageOf(r.zone).deleteSnapshot({ snapshotId: r.id }, ctx);
      db.delete(snapshots).where(eq(snapshots.id, r.id)).run();
    },

    /** The snapshot a volume is to be made from, if the caller may: completed, and the size it needs. */
    restorable(caller: Caller, id: string): SnapshotRecord {
      const r = db.select().from(snapshots).where(idIs(snapshots.id, id)).get();
      if (!r || !mayRestore(caller, r)) throw new NotFoundError("snapshot", id);
      if (r.state !== "completed") throw new IncorrectStateError(`The snapshot ${r.id} is ${r.state}`);
      return r;
    },

    permissions(caller: Caller, id: string): { snapshot: SnapshotRecord; grantees: string[] } {
      const r = owned(caller, id);
      return { snapshot: r, grantees: grantees(r.id) };
    },

    modifyPermissions(caller: Caller, id: string, add: readonly string[], remove: readonly string[]): void {
      const r = owned(caller, id);
      for (const g of [...add, ...remove])
        if (g !== "all" && !/^\d{12}$/.test(g))
          throw new InvalidParameterError("UserId", `'${g}' is not an account id (12 digits) or the group all`);
      sqlite.transaction(() => {
        for (const g of add)
          db.insert(snapshotPermissions).values({ snapshotId: r.id, grantee: g }).onConflictDoNothing().run();
        if (remove.length)
          db.delete(snapshotPermissions)
            .where(and(eq(snapshotPermissions.snapshotId, r.id), inArray(snapshotPermissions.grantee, [...remove])))
            .run();
      })();
    },

    resetPermissions(caller: Caller, id: string): void {
      db.delete(snapshotPermissions)
        .where(eq(snapshotPermissions.snapshotId, owned(caller, id).id))
        .run();
    },

    /** These snapshots, those still pending brought in line with their SCs now (CreateImage's images). */
    async settle(ids: readonly string[], ctx: CallContext): Promise<void> {
      if (!ids.length) return;
      const pending = db
        .select()
        .from(snapshots)
        .where(and(inArray(snapshots.id, [...ids]), eq(snapshots.state, "pending")))
        .all();
      if (pending.length) await refresh(pending, ctx);
    },

    /** Pending snapshots brought in line with their SCs: the CLC's periodic sync. */
    async sync(ctx: CallContext): Promise<void> {
      const pending = db
        .select()
        .from(snapshots)
        .where(or(eq(snapshots.state, "pending")))
        .all();
      if (pending.length) await refresh(pending, ctx);
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;
