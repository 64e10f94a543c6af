/**
 * CreateImage: an EBS-backed image from an EBS-backed instance — a snapshot of each of its
 * volumes (the same deduplicated chunk store: blocks the source image's snapshot holds are
 * not sent again) and an image whose mappings name them, `pending` until every snapshot is
 * completed. A running instance is stopped first and started again afterwards (EC2's
 * default, for a file system at rest), unless NoReboot: then each volume is held still on
 * its node for its point-in-time copy (crash-consistent). The image id is answered at once;
 * what a restart cut short is marked failed, and a stopped-for-the-image instance started.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { IncorrectStateError, InvalidParameterError, UnsupportedError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import type { ClcDatabase } from "../database";
import { images, snapshots } from "../schema";
import {
  decodeMappings,
  deviceKey,
  encodeMappings,
  mergeMappings,
  parseMappings,
  type BlockDeviceMapping,
  type MappingInput,
} from "./block-devices";
import type { ImageService } from "./images";
import type { InstanceVolumes } from "./instance-volumes";
import type { Caller, InstanceRecord } from "./instance-records";
import type { InstanceService } from "./instances";
import type { SnapshotService } from "./snapshots";

const snapshotsOf = (mappings: string) =>
  decodeMappings(mappings).flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : []));

/** How long CreateImage waits for the instance it stopped to be stopped. */
const STOPPED_WITHIN_MS = 10 * 60 * 1000;

export function createImageMaker(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  images: ImageService;
  instances: InstanceService;
  snapshots: SnapshotService;
  volumes: InstanceVolumes;
  pollMs?: number;
}) {
  const { db } = o.db;
  const inflight = new Map<string, Promise<void>>();

  async function untilStopped(id: string): Promise<void> {
    const deadline = o.clock.now().getTime() + STOPPED_WITHIN_MS;
    for (;;) {
      const r = o.instances.byId(id);
      if (!r || r.state === "stopped") return;
      if (r.state !== "stopping") throw new IncorrectStateError(`The instance ${id} is ${r.state}, not stopping`);
      if (o.clock.now().getTime() > deadline) throw new IncorrectStateError(`The instance ${id} did not stop in time`);
      await new Promise((res) => setTimeout(res, o.pollMs ?? 250));
    }
  }

  /** Snapshots of the instance's volumes (the point-in-time copies are made when this returns) and the image's mappings. */
  async function snapshotAll(
    caller: Caller,
    r: InstanceRecord,
    imageId: string,
    extra: readonly BlockDeviceMapping[],
    ctx: CallContext,
  ): Promise<BlockDeviceMapping[]> {
    const left = new Set(extra.filter((m) => m.noDevice).map((m) => deviceKey(m.deviceName)));
    const own: BlockDeviceMapping[] = [];
    for (const v of o.volumes.of(r.id)) {
      if (left.has(v.device!) && v.device !== deviceKey(r.rootDeviceName!)) continue;
      const snap = await o.snapshots.create(
        { accountId: r.accountId, isAdmin: caller.isAdmin },
        { volumeId: v.id, description: `Created by CreateImage(${r.id}) for ${imageId}` },
        ctx,
      );
      own.push({
        deviceName: `/dev/${v.device}`,
        ebs: {
          snapshotId: snap.id,
          volumeSize: v.sizeGiB,
          deleteOnTermination: v.deleteOnTermination,
          volumeType: v.volumeType,
        },
      });
    }
    const ephemeral = (JSON.parse(r.ephemeralDevices) as Array<{ deviceName: string; virtualName: string }>).map(
      (e) => ({ deviceName: `/dev/${e.deviceName}`, virtualName: e.virtualName }),
    );
    return mergeMappings(
      [...own, ...ephemeral],
      extra.filter((m) => !m.ebs || !m.ebs.snapshotId),
    );
  }

  return {
    async create(
      caller: Caller,
      input: { instanceId: string; name: string; description?: string; noReboot?: boolean; mappings?: MappingInput[] },
      ctx: CallContext,
    ): Promise<{ imageId: string }> {
      const extra = parseMappings(input.mappings);
      const r = o.instances.owned(caller, input.instanceId);
      if (r.rootDeviceType !== "ebs")
        throw new UnsupportedError(
          `The instance '${r.id}' does not have an 'ebs' root device type: bundle it (euca-bundle-instance) instead`,
        );
      if (r.state !== "running" && r.state !== "stopped")
        throw new IncorrectStateError(
          `The instance '${r.id}' is ${r.state}: an image is made of a running or stopped one`,
          "instance",
        );
      if (!/^[A-Za-z0-9()[\] ./'@_-]{3,128}$/.test(input.name))
        throw new InvalidParameterError(
          "Name",
          "An image name is 3 to 128 letters, digits, spaces and ( ) [ ] . / - ' @ _",
        );
      const reboot = r.state === "running" && !input.noReboot;
      // The image's record first (pending, no mappings yet): a restart finds it and says it failed.
      const image = o.images.registerEbs(caller, {
        name: input.name,
        description: input.description,
        rootDeviceName: r.rootDeviceName!,
        mappings: [],
        virtualizationType: r.kernelId ? "paravirtual" : "hvm",
        kernelId: r.kernelId ?? undefined,
        ramdiskId: r.ramdiskId ?? undefined,
        pending: true,
      });
      const work = async () => {
        let stoppedHere = false;
        try {
          if (reboot) {
            await o.instances.stop(caller, [r.id], false, ctx);
            stoppedHere = true;
            await untilStopped(r.id);
          }
          const mappings = await snapshotAll(caller, r, image.id, extra, ctx);
          db.update(images)
            .set({ blockDeviceMappings: encodeMappings(mappings) })
            .where(eq(images.id, image.id))
            .run();
          o.log.info({ requestId: ctx.requestId, imageId: image.id, instanceId: r.id }, "clc: image's snapshots taken");
        } catch (e) {
          o.images.settle(image.id, "failed");
          o.log.warn(
            { requestId: ctx.requestId, imageId: image.id, instanceId: r.id, err: (e as Error).message },
            "clc: CreateImage failed",
          );
        } finally {
          if (stoppedHere) await o.instances.start(caller, [r.id], ctx).catch(() => undefined);
        }
      };
      const p = work()
        .catch((e: Error) => o.log.error({ imageId: image.id, err: e.message }, "clc: CreateImage's work failed"))
        .finally(() => inflight.delete(image.id));
      inflight.set(image.id, p);
      if (!reboot) await p; // the copies are made while the request waits (the guest is held still, not stopped)
      return { imageId: image.id };
    },

    /** Pending images' snapshots asked of their SCs now, then settled (DescribeImages shows them as they are). */
    async refresh(ctx: CallContext): Promise<void> {
      const pending = o.images.pending().filter((i) => !inflight.has(i.id));
      if (!pending.length) return;
      await o.snapshots.settle(
        pending.flatMap((i) => snapshotsOf(i.blockDeviceMappings)),
        ctx,
      );
      this.sync();
    },

    /** Pending images become available once all their snapshots are completed (failed when one is not, or a restart cut it short). */
    sync(): void {
      for (const img of o.images.pending()) {
        if (inflight.has(img.id)) continue;
        const ids = decodeMappings(img.blockDeviceMappings).flatMap((m) =>
          m.ebs?.snapshotId ? [m.ebs.snapshotId] : [],
        );
        if (!ids.length) {
          o.images.settle(img.id, "failed"); // its snapshots were never taken (a restart)
          continue;
        }
        const states = db
          .select({ state: snapshots.state })
          .from(snapshots)
          .where(and(inArray(snapshots.id, ids)))
          .all()
          .map((s) => s.state);
        if (states.length < ids.length || states.includes("error")) o.images.settle(img.id, "failed");
        else if (states.every((s) => s === "completed")) o.images.settle(img.id, "available");
      }
    },
  };
}

export type ImageMaker = ReturnType<typeof createImageMaker>;
