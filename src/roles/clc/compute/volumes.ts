/**
 * EBS volumes as EC2 users see them (Eucalyptus' VolumeManager): each in one zone, held by
 * that zone's storage controller, attached to at most one instance of its owner in the
 * same zone. The SC says what it holds; the node's report says what is attached; this
 * service keeps the user's record in line with both and checks every request first.
 */
import { and, eq, gt, inArray, isNull, notInArray, or } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { IncorrectStateError, InvalidParameterError, NotFoundError, UnavailableError } from "../../../common/errors";
import { volumeStateFrom } from "../../../lifecycle/volume";
import type { CallContext } from "../../../rpc/types";
import type { Intents } from "./intents";
import type { StorageClient } from "../../sc/client";
import type { ClcDatabase } from "../database";
import { idIn, idIs, sameId } from "./id-match";
import { deviceKey } from "./block-devices";
import { createVolumeRelease } from "./volume-release";
import type { Caller, InstanceRecord } from "./instance-records";
import { volumes } from "../schema";

export type VolumeRecord = typeof volumes.$inferSelect;

/** How long a deleted volume is still listed (as EC2 shows `deleted` for a while). */
const DELETED_VISIBLE_MS = 60 * 60 * 1000;
/** How long a volume may be `creating` without its SC knowing it before it is in error. */
const LOST_AFTER_MS = 60_000;
export { VOLUME_TYPES } from "./volume-types";
import { VOLUME_TYPES } from "./volume-types";
/** Device names a volume may take: /dev/sdf, sdf, /dev/xvdg, vdh. The root's (sda*, xvda*, vda) are the image's. */
const DEVICE = /^(?:\/dev\/)?((?:sd|xvd|vd)[b-z][a-z]?)$/;

export type { Zone } from "./zone";
import type { Zone } from "./zone";

export function createVolumeService(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  zones: () => Zone[];
  /** The instance record a volume is attached to (whatever its state). */
  instanceOf: (id: string) => InstanceRecord | undefined;
  /** A live instance the caller may attach to (IncorrectState when it is not running). */
  instance: (caller: Caller, id: string) => InstanceRecord;
  maxPerUser: number;
  /** The completed snapshot a caller may make a volume from (NotFound otherwise), and its size. */
  snapshot: (caller: Caller, id: string) => { id: string; sizeGiB: number };
  intents: Intents;
  log: Logger;
}) {
  const { db, sqlite } = o.db;

  const zone = (name: string) => {
    const z = o.zones().find((x) => x.name === name);
    if (!z) throw new InvalidParameterError("AvailabilityZone", `The zone '${name}' does not exist`);
    return z;
  };
  const storageOf = (name: string) => {
    const s = zone(name).storage;
    if (!s) throw new UnavailableError(`The zone ${name} has no storage controller`);
    return s;
  };

  function visible(caller: Caller & { all?: boolean }, ids?: readonly string[]): VolumeRecord[] {
    const cutoff = new Date(o.clock.now().getTime() - DELETED_VISIBLE_MS);
    const conds = [or(isNull(volumes.deletedAt), gt(volumes.deletedAt, cutoff))];
    if (!caller.all) conds.push(eq(volumes.accountId, caller.accountId));
    if (ids?.length) conds.push(idIn(volumes.id, ids));
    return db
      .select()
      .from(volumes)
      .where(and(...conds))
      .orderBy(volumes.createdAt)
      .all();
  }

  function owned(caller: Caller, id: string): VolumeRecord {
    const r = db.select().from(volumes).where(idIs(volumes.id, id)).get();
    if (!r || r.state === "deleted" || (r.accountId !== caller.accountId && !caller.isAdmin))
      throw new NotFoundError("volume", id);
    return r;
  }

  const set = (id: string, patch: Partial<VolumeRecord>) =>
    db.update(volumes).set(patch).where(eq(volumes.id, id)).run();
  const detached = { instanceId: null, device: null, attachState: null, attachedAt: null } as const;

  const release = createVolumeRelease({ ...o, zone, storageOf, set });
  const { letGo, deleteWithInstance, retryDetaches } = release;

  /** The volumes' states from their SCs (a zone that does not answer keeps its last). */
  async function refresh(rows: VolumeRecord[], ctx: CallContext): Promise<void> {
    const byZone = new Map<string, VolumeRecord[]>();
    for (const r of rows.filter((x) => x.state !== "deleted")) byZone.set(r.zone, [...(byZone.get(r.zone) ?? []), r]);
    await Promise.all(
      [...byZone].map(async ([name, list]) => {
        const s = o.zones().find((z) => z.name === name)?.storage;
        if (!s) return;
        let stored: Map<string, Awaited<ReturnType<StorageClient["describeVolumes"]>>["volumes"][number]>;
        try {
          stored = new Map(
            (await s.describeVolumes({ volumeIds: list.map((r) => r.id) }, ctx)).volumes.map((v) => [v.volumeId, v]),
          );
        } catch {
          return;
        }
        for (const r of list) {
          const known = stored.get(r.id);
          // A volume its SC never recorded (the CLC crashed between its record and the SC's): in error once that is clear.
          if (!known && r.state === "creating" && r.createdAt.getTime() > o.clock.now().getTime() - LOST_AFTER_MS)
            continue;
          const next = volumeStateFrom(known?.state, r.state, r.attachState !== null);
          if (next !== r.state) set(r.id, { state: next, ...(next === "deleted" ? { deletedAt: o.clock.now() } : {}) });
        }
      }),
    );
  }

  return {
    async create(
      caller: Caller,
      input: { sizeGiB?: number; zone: string; volumeType?: string; snapshotId?: string },
      ctx: CallContext,
    ): Promise<VolumeRecord> {
      zone(input.zone); // an unknown zone is the first thing said
      const snap = input.snapshotId !== undefined ? o.snapshot(caller, input.snapshotId) : undefined;
      const sizeGiB = input.sizeGiB ?? snap?.sizeGiB; // from a snapshot: its size unless a larger one is asked
      if (sizeGiB === undefined)
        throw new InvalidParameterError("Size", "The request must contain the parameter Size or SnapshotId");
      if (!Number.isInteger(sizeGiB) || sizeGiB < 1)
        throw new InvalidParameterError("Size", `The volume size must be a whole number of GiB from 1, not ${sizeGiB}`);
      if (snap && sizeGiB < snap.sizeGiB)
        throw new InvalidParameterError(
          "Size",
          `The volume size (${sizeGiB} GiB) must be at least the snapshot's (${snap.sizeGiB} GiB)`,
        );
      const type = input.volumeType ?? "standard";
      if (!(VOLUME_TYPES as readonly string[]).includes(type))
        throw new InvalidParameterError(
          "VolumeType",
          `The volume type '${type}' is not one of ${VOLUME_TYPES.join(", ")}`,
        );
      const storage = storageOf(input.zone);
      const id = o.ids.resourceId("volume");
      sqlite
        .transaction(() => {
          const held = db
            .select({ id: volumes.id })
            .from(volumes)
            .where(and(eq(volumes.accountId, caller.accountId), notInArray(volumes.state, ["deleting", "deleted"])))
            .all().length;
          if (!caller.isAdmin && o.maxPerUser > 0 && held >= o.maxPerUser)
            throw new InvalidParameterError("Size", `You may hold at most ${o.maxPerUser} volumes`, "volume-limit");
          db.insert(volumes)
            .values({
              id,
              accountId: caller.accountId,
              zone: input.zone,
              sizeGiB,
              snapshotId: snap?.id ?? null,
              volumeType: type,
              state: "creating",
              createdAt: o.clock.now(),
            })
            .run();
        })
        .immediate();
      try {
        await storage.createVolume({ volumeId: id, sizeGiB, ...(snap ? { snapshotId: snap.id } : {}) }, ctx);
      } catch (e) {
        db.delete(volumes).where(eq(volumes.id, id)).run(); // the SC refused it: there is no volume
        throw e;
      }
      return db.select().from(volumes).where(eq(volumes.id, id)).get()!;
    },

    async describe(
      caller: Caller & { all?: boolean },
      ids: readonly string[],
      ctx: CallContext,
    ): Promise<VolumeRecord[]> {
      for (const id of ids) if (!visible(caller, [id]).length) throw new NotFoundError("volume", id);
      const rows = visible(caller, ids);
      const settling = rows.filter((r) => r.state === "creating" || r.state === "deleting");
      if (settling.length) await refresh(settling, ctx);
      return visible(caller, ids);
    },

    async delete(caller: Caller, id: string, ctx: CallContext): Promise<void> {
      const r = owned(caller, id);
      if (r.attachState || r.state === "in-use")
        throw new IncorrectStateError(`Volume ${r.id} is attached to ${r.instanceId}`, "volume-in-use");
      if (r.state === "deleting") return;
      if (r.state === "creating") throw new IncorrectStateError(`Volume ${r.id} is still being created`);
      await storageOf(r.zone).deleteVolume({ volumeId: r.id }, ctx);
      set(r.id, { state: "deleting" });
    },

    async attach(
      caller: Caller,
      input: { volumeId: string; instanceId: string; device: string },
      ctx: CallContext,
    ): Promise<VolumeRecord> {
      const v = owned(caller, input.volumeId);
      const device = DEVICE.exec(input.device)?.[1];
      if (!device)
        throw new InvalidParameterError(
          "Device",
          `Value (${input.device}) for parameter device is invalid: use /dev/sdf … /dev/sdz (or xvdf, vdf); the root's are the image's`,
        );
      const inst = o.instance({ ...caller, isAdmin: false }, input.instanceId); // only the caller's own instances
      if (inst.accountId !== v.accountId) throw new NotFoundError("instance", input.instanceId);
      if (inst.state !== "running") throw new IncorrectStateError(`Instance '${inst.id}' is not 'running'`);
      if (v.zone !== inst.zone)
        throw new InvalidParameterError(
          "VolumeId",
          `Volume ${v.id} is in ${v.zone}, instance ${inst.id} in ${inst.zone}`,
        );
      if (v.attachState || v.state === "in-use")
        throw new IncorrectStateError(`Volume ${v.id} is attached to ${v.instanceId}`, "volume-in-use");
      if (v.state !== "available") throw new IncorrectStateError(`Volume ${v.id} is ${v.state}`);
      sqlite
        .transaction(() => {
          const taken = db
            .select()
            .from(volumes)
            .where(and(eq(volumes.instanceId, inst.id), eq(volumes.device, device)))
            .get();
          if (taken) throw new InvalidParameterError("Device", `Attachment point /dev/${device} is already in use`);
          set(v.id, {
            instanceId: inst.id,
            device,
            attachState: "attaching",
            attachedAt: o.clock.now(),
            state: "in-use",
          });
        })
        .immediate();
      const storage = storageOf(v.zone);
      try {
        const { local } = await zone(v.zone).cluster.volumeHostOf({ instanceId: inst.id }, ctx);
        const target = await storage.exportVolume({ volumeId: v.id, instanceId: inst.id, local }, ctx);
        await zone(v.zone).cluster.attachVolume({ instanceId: inst.id, volumeId: v.id, device, target }, ctx);
      } catch (e) {
        await storage.unexportVolume({ volumeId: v.id, instanceId: inst.id }, ctx).catch(() => undefined);
        set(v.id, { ...detached, state: "available" });
        throw e;
      }
      set(v.id, { attachState: "attached" });
      o.log.info({ requestId: ctx.requestId, volumeId: v.id, instanceId: inst.id, device }, "clc: volume attached");
      return { ...db.select().from(volumes).where(eq(volumes.id, v.id)).get()!, attachState: "attaching" }; // as EC2 answers AttachVolume
    },

    async detach(
      caller: Caller,
      input: { volumeId: string; instanceId?: string; device?: string; force?: boolean },
      ctx: CallContext,
    ): Promise<VolumeRecord> {
      const v = owned(caller, input.volumeId);
      if (!v.attachState || !v.instanceId) throw new IncorrectStateError(`Volume ${v.id} is not attached`);
      if (input.instanceId !== undefined && !sameId(input.instanceId, v.instanceId))
        throw new IncorrectStateError(`Volume ${v.id} is not attached to ${input.instanceId}`);
      if (input.device !== undefined && DEVICE.exec(input.device)?.[1] !== v.device)
        throw new IncorrectStateError(`Volume ${v.id} is not attached at ${input.device}`);
      const inst = o.instanceOf(v.instanceId);
      if (inst?.rootDeviceName && v.device === deviceKey(inst.rootDeviceName) && inst.state !== "stopped")
        throw new IncorrectStateError(
          `Unable to detach root volume '${v.id}' from instance '${v.instanceId}' while it is ${inst.state}`,
          "instance",
        );
      set(v.id, { attachState: "detaching" });
      try {
        await zone(v.zone).cluster.detachVolume({ instanceId: v.instanceId, volumeId: v.id }, ctx);
      } catch (e) {
        // Force: the record lets go even when the node did not answer (EC2's "last resort").
        if (input.force) {
          o.log.warn(
            { requestId: ctx.requestId, volumeId: v.id, err: (e as Error).message },
            "clc: forced detach; the node did not confirm",
          );
        } else if (e instanceof UnavailableError) {
          // Its node (or cluster) is silent: the detach stays asked for and is carried out when it answers.
          o.intents.record("detach", v.id, v.zone, { instanceId: v.instanceId });
          o.intents.failed("detach", v.id, e.message);
          o.log.warn(
            { requestId: ctx.requestId, volumeId: v.id, instanceId: v.instanceId, err: e.message },
            "clc: detach kept as an intent until the node answers",
          );
          return { ...v, attachState: "detaching" };
        } else {
          set(v.id, { attachState: "attached" });
          throw e;
        }
      }
      await letGo(v, ctx);
      return { ...v, attachState: "detaching" }; // as EC2 answers DetachVolume
    },

    reconcileAttachments: release.reconcileAttachments,

    /** The volumes attached to each of the instances (DescribeInstances' block device mappings). */
    attachedTo(instanceIds: readonly string[]): Map<string, VolumeRecord[]> {
      const out = new Map<string, VolumeRecord[]>();
      if (!instanceIds.length) return out;
      for (const v of db
        .select()
        .from(volumes)
        .where(inArray(volumes.instanceId, [...instanceIds]))
        .all()) {
        if (v.attachState) out.set(v.instanceId!, [...(out.get(v.instanceId!) ?? []), v]);
      }
      return out;
    },

    /** Every volume still settling (creating, deleting) brought in line with its SC: the CLC's periodic sync. */
    async sync(ctx: CallContext): Promise<void> {
      const settling = db
        .select()
        .from(volumes)
        .where(inArray(volumes.state, ["creating", "deleting"]))
        .all();
      if (settling.length) await refresh(settling, ctx);
      await retryDetaches(ctx);
      // Volumes whose instance ended before their SC had made them (or while it held them back).
      for (const v of db
        .select()
        .from(volumes)
        .where(and(eq(volumes.state, "available"), isNull(volumes.attachState), eq(volumes.deleteOnTermination, true)))
        .all())
        await deleteWithInstance(v, ctx);
    },
  };
}

export type VolumeService = ReturnType<typeof createVolumeService>;
