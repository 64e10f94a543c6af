/**
 * The volumes an instance gets from its block device mappings: recorded with the instance
 * (same transaction: a crash leaves both or neither), made by the zone's SC, exported to
 * the node its cluster chose each time it starts, let go of its node when it stops. The
 * root of an EBS-backed instance is one of them, at its root device name.
 */
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { InvalidParameterError, UnavailableError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import type { LaunchVolume } from "../../nc/client";
import type { StorageClient } from "../../sc/client";
import type { ClcDatabase } from "../database";
import { volumes } from "../schema";
import { deviceKey, type BlockDeviceMapping } from "./block-devices";
import type { Caller } from "./images";
import type { Zone } from "./zone";

type VolumeRecord = typeof volumes.$inferSelect;

/** One EBS mapping made concrete for a launch: its size known, its snapshot checked. */
export interface PlannedVolume {
  device: string;
  sizeGiB: number;
  snapshotId?: string;
  volumeType: string;
  deleteOnTermination: boolean;
  root: boolean;
}

/** How long a launch waits for its volumes to be made (a large snapshot restores in minutes). */
export const VOLUMES_READY_MS = 30 * 60 * 1000;

export function createInstanceVolumes(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  zones: () => Zone[];
  /** A completed snapshot the caller may restore, and its size. */
  snapshot: (caller: Caller, id: string) => { id: string; sizeGiB: number };
  maxPerUser: () => number;
  /** For tests: how often a launch asks its SC whether its volumes are made. */
  pollMs?: number;
}) {
  const { db } = o.db;
  const storageOf = (zone: string): StorageClient => {
    const s = o.zones().find((z) => z.name === zone)?.storage;
    if (!s) throw new UnavailableError(`The zone ${zone} has no storage controller`);
    return s;
  };
  const of = (instanceId: string) =>
    db
      .select()
      .from(volumes)
      .where(and(eq(volumes.instanceId, instanceId), isNotNull(volumes.attachState)))
      .all();

  return {
    storageOf,

    /** The mappings' EBS volumes, each checked (the snapshot restorable, the size at least the snapshot's). */
    plan(caller: Caller, mappings: readonly BlockDeviceMapping[], rootDeviceName?: string): PlannedVolume[] {
      return mappings.flatMap((m): PlannedVolume[] => {
        if (!m.ebs) return [];
        const snap = m.ebs.snapshotId !== undefined ? o.snapshot(caller, m.ebs.snapshotId) : undefined;
        const sizeGiB = m.ebs.volumeSize ?? snap!.sizeGiB;
        if (snap && sizeGiB < snap.sizeGiB)
          throw new InvalidParameterError(
            "BlockDeviceMapping",
            `Volume of size ${sizeGiB} GiB is smaller than snapshot '${snap.id}', expect size >= ${snap.sizeGiB} GiB`,
            "block-device-mapping",
          );
        return [
          {
            device: deviceKey(m.deviceName),
            sizeGiB,
            ...(snap ? { snapshotId: snap.id } : {}),
            volumeType: m.ebs.volumeType,
            deleteOnTermination: m.ebs.deleteOnTermination,
            root: rootDeviceName !== undefined && deviceKey(rootDeviceName) === deviceKey(m.deviceName),
          },
        ];
      });
    },

    /**
     * Records the planned volumes as attaching to the instance (inside the launch's
     * transaction). The per-user volume limit counts them.
     */
    record(caller: Caller, instanceId: string, zone: string, planned: readonly PlannedVolume[]): void {
      if (!planned.length) return;
      const max = o.maxPerUser();
      if (!caller.isAdmin && max > 0) {
        const held = db
          .select({ id: volumes.id })
          .from(volumes)
          .where(
            and(eq(volumes.accountId, caller.accountId), inArray(volumes.state, ["creating", "available", "in-use"])),
          )
          .all().length;
        if (held + planned.length > max)
          throw new InvalidParameterError("BlockDeviceMapping", `You may hold at most ${max} volumes`, "volume-limit");
      }
      const now = o.clock.now();
      for (const p of planned)
        db.insert(volumes)
          .values({
            id: o.ids.resourceId("volume"),
            accountId: caller.accountId,
            zone,
            sizeGiB: p.sizeGiB,
            snapshotId: p.snapshotId ?? null,
            volumeType: p.volumeType,
            state: "creating",
            createdAt: now,
            instanceId,
            device: p.device,
            attachState: "attaching",
            attachedAt: now,
            deleteOnTermination: p.deleteOnTermination,
          })
          .run();
    },

    /** The instance's volumes, root first. */
    of,

    /** Asks the SC to make each of the instance's volumes still `creating` (idempotent per id). */
    async make(instanceId: string, ctx: CallContext): Promise<void> {
      for (const v of of(instanceId).filter((x) => x.state === "creating"))
        await storageOf(v.zone).createVolume(
          { volumeId: v.id, sizeGiB: v.sizeGiB, ...(v.snapshotId ? { snapshotId: v.snapshotId } : {}) },
          ctx,
        );
    },

    /** Waits until the SC has made them all (`in-use` from then on); throws when one failed or it took too long. */
    async ready(instanceId: string, ctx: CallContext): Promise<void> {
      const deadline = o.clock.now().getTime() + VOLUMES_READY_MS;
      for (;;) {
        const waiting = of(instanceId).filter((v) => v.state === "creating");
        if (!waiting.length) return;
        const stored = await storageOf(waiting[0]!.zone).describeVolumes({ volumeIds: waiting.map((v) => v.id) }, ctx);
        for (const v of waiting) {
          const s = stored.volumes.find((x) => x.volumeId === v.id);
          if (s?.state === "error") {
            db.update(volumes).set({ state: "error" }).where(eq(volumes.id, v.id)).run();
            throw new UnavailableError(`The volume ${v.id} could not be made: ${s.reason ?? "storage error"}`);
          }
          if (s?.state === "available") db.update(volumes).set({ state: "in-use" }).where(eq(volumes.id, v.id)).run();
        }
        if (o.clock.now().getTime() > deadline)
          throw new UnavailableError(
            `The volumes of ${instanceId} were not made within ${VOLUMES_READY_MS / 60_000} minutes`,
          );
        await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
      }
    },

    /** Where the node chosen opens each volume (its file when it shares the SC's host), the root apart. */
    async exportTo(
      instanceId: string,
      rootDevice: string | undefined,
      local: boolean,
      ctx: CallContext,
    ): Promise<{ root?: LaunchVolume; others: LaunchVolume[] }> {
      const out: { root?: LaunchVolume; others: LaunchVolume[] } = { others: [] };
      for (const v of of(instanceId)) {
        // The SC's export is recorded for the volume (not the target), so one made while its CLC still waited is the one.
        const target = await storageOf(v.zone).exportVolume({ volumeId: v.id, instanceId, local }, ctx);
        const lv = { volumeId: v.id, device: v.device!, target };
        if (rootDevice !== undefined && v.device === deviceKey(rootDevice)) out.root = lv;
        else out.others.push(lv);
      }
      return out;
    },

    /** The guest runs with its volumes: they are attached. */
    attached(instanceId: string): void {
      db.update(volumes)
        .set({ attachState: "attached", state: "in-use" })
        .where(and(eq(volumes.instanceId, instanceId), eq(volumes.attachState, "attaching")))
        .run();
    },

    /** Its node let go of them (stopped, or a start undone): their exports end; they stay the instance's. */
    async unexport(instanceId: string, ctx: CallContext): Promise<void> {
      for (const v of of(instanceId))
        await storageOf(v.zone)
          .unexportVolume({ volumeId: v.id, instanceId }, ctx)
          .catch(() => undefined);
    },

    /** DeleteOnTermination of one of its volumes (ModifyInstanceAttribute blockDeviceMapping). */
    setDeleteOnTermination(instanceId: string, device: string, value: boolean): VolumeRecord {
      const key = deviceKey(device);
      const v = of(instanceId).find((x) => x.device === key);
      if (!v)
        throw new InvalidParameterError(
          "BlockDeviceMapping",
          `No volume is attached to ${instanceId} at ${device}`,
          "block-device-mapping",
        );
      db.update(volumes).set({ deleteOnTermination: value }).where(eq(volumes.id, v.id)).run();
      return { ...v, deleteOnTermination: value };
    },
  };
}

export type InstanceVolumes = ReturnType<typeof createInstanceVolumes>;
