/**
 * EBS-backed images: registered from snapshots (RegisterImage without a bundle, CreateImage's
 * own), copied (CopyImage: their snapshots copied, chunks shared), and CreateImage's
 * `pending` ones settled. What images.ts shares with them: the record, its lookups.
 */
import { eq, and } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { InvalidParameterError } from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { images } from "../schema";
import { decodeMappings, encodeMappings, parseMappings, rootMapping, type BlockDeviceMapping } from "./block-devices";
import type { Caller, ImageRecord, ImageView } from "./image-records";

export function createEbsImages(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  snapshot: (caller: Caller, id: string) => { id: string; sizeGiB: number };
  get: (id: string) => ImageRecord;
  visible: (caller: Caller, id: string) => ImageView;
}) {
  const { db } = o.db;
  const { get, visible } = o;

  /** Each EBS mapping's snapshot restorable by the caller (completed, unless `completed` is false) and no larger than asked. */
  function checkSnapshots(caller: Caller, mappings: readonly BlockDeviceMapping[], completed: boolean): void {
    for (const m of mappings) {
      const e = m.ebs;
      if (!e?.snapshotId || !completed) continue;
      const snap = o.snapshot(caller, e.snapshotId);
      if (e.volumeSize !== undefined && e.volumeSize < snap.sizeGiB)
        throw new InvalidParameterError(
          "BlockDeviceMapping",
          `Volume of size ${e.volumeSize} GiB is smaller than snapshot '${snap.id}', expect size >= ${snap.sizeGiB} GiB`,
          "block-device-mapping",
        );
    }
  }

  return {
    parseMappings,

    /**
     * An EBS-backed image: its root (and any other mapping) made from snapshots at each
     * launch. Each snapshot must be one the caller may restore and completed; the root's
     * size may grow, never shrink below its snapshot's. No bundle is read.
     */
    registerEbs(
      caller: Caller,
      input: {
        name: string;
        description?: string;
        architecture?: string;
        rootDeviceName: string;
        mappings: readonly BlockDeviceMapping[];
        virtualizationType?: "paravirtual" | "hvm";
        bootMode?: string;
        kernelId?: string;
        ramdiskId?: string;
        /** CreateImage's: `pending` until its snapshots complete. */
        pending?: boolean;
      },
    ): ImageRecord {
      const root = rootMapping(input.mappings, input.rootDeviceName);
      // CreateImage records its image before its snapshots exist (pending, no mappings yet).
      if (!root?.ebs?.snapshotId && !(input.pending && !input.mappings.length))
        throw new InvalidParameterError(
          "BlockDeviceMapping",
          `The root device ${input.rootDeviceName} must be mapped to an EBS snapshot`,
          "block-device-mapping",
        );
      checkSnapshots(caller, input.mappings, !input.pending);
      for (const [id, want] of [
        [input.kernelId, "kernel"],
        [input.ramdiskId, "ramdisk"],
      ] as const) {
        if (id !== undefined && get(id).type !== want)
          throw new InvalidParameterError(want === "kernel" ? "KernelId" : "RamdiskId", `${id} is not a ${want} image`);
      }
      const taken = db
        .select({ id: images.id })
        .from(images)
        .where(and(eq(images.accountId, caller.accountId), eq(images.name, input.name), eq(images.state, "available")))
        .get();
      if (taken)
        throw new InvalidParameterError("Name", `You already have an image named '${input.name}' (${taken.id})`);
      const r: ImageRecord = {
        id: o.ids.resourceId("image"),
        accountId: caller.accountId,
        location: "",
        name: input.name,
        description: input.description ?? "",
        architecture: input.architecture ?? "x86_64",
        type: "machine",
        kernelId: input.kernelId ?? null,
        ramdiskId: input.ramdiskId ?? null,
        state: "available",
        size: 0,
        productCodes: "",
        createdAt: o.clock.now(),
        rootDeviceType: "ebs",
        rootDeviceName: input.rootDeviceName,
        blockDeviceMappings: encodeMappings(input.mappings),
        // Without a kernel the disk boots itself (a bootloader in it): a full guest.
        virtualizationType: input.virtualizationType ?? (input.kernelId ? "paravirtual" : "hvm"),
        bootMode: input.bootMode ?? null,
        imageState: input.pending ? "pending" : "available",
      };
      db.insert(images).values(r).run();
      return r;
    },

    /**
     * CopyImage within the region: the caller's own image of the same root — an EBS-backed
     * one's snapshots copied (`copySnapshot`: chunks shared), an instance-store one naming
     * the same bundle.
     */
    async copy(
      caller: Caller,
      input: { sourceImageId: string; name: string; description?: string },
      copySnapshot: (id: string) => Promise<string>,
    ): Promise<ImageRecord> {
      const src = visible(caller, input.sourceImageId);
      if (src.type !== "machine" || src.imageState !== "available")
        throw new InvalidParameterError("SourceImageId", `${src.id} is not an available machine image`);
      const mappings = decodeMappings(src.blockDeviceMappings);
      const copied: BlockDeviceMapping[] = [];
      for (const m of mappings)
        copied.push(
          m.ebs?.snapshotId ? { ...m, ebs: { ...m.ebs, snapshotId: await copySnapshot(m.ebs.snapshotId) } } : m,
        );
      const r: ImageRecord = {
        ...src,
        id: o.ids.resourceId("image"),
        accountId: caller.accountId,
        name: input.name,
        description: input.description ?? src.description,
        productCodes: "",
        createdAt: o.clock.now(),
        blockDeviceMappings: encodeMappings(copied),
      };
      const { isPublic: _p, launchPermissions: _l, ...row } = r as ImageView;
      db.insert(images).values(row).run();
      return row;
    },

    /** CreateImage's image once its snapshots are taken (or one failed). */
    settle(id: string, state: "available" | "failed"): void {
      db.update(images).set({ imageState: state }).where(eq(images.id, id)).run();
    },

    /** Images still waiting for their snapshots (CreateImage), for the CLC's sync. */
    pending(): ImageRecord[] {
      return db
        .select()
        .from(images)
        .where(and(eq(images.imageState, "pending"), eq(images.state, "available")))
        .all();
    },
  };
}
