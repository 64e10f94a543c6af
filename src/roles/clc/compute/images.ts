/**
 * Images registered from bundle manifests in Walrus, with the checks Eucalyptus made
 * (reference §2.7): a bucket/key location, bucket ownership (admins exempt), the
 * manifest's signature against the owner's certificates, the wrapped key readable
 * with the cloud's key, kernels and ramdisks admin-only and referenced ones existing.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { AccessDeniedError, InvalidParameterError, NotFoundError, UnavailableError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import { parseManifest, verifyManifestSignature } from "../../../bundle/manifest";
import { unwrapKey } from "../../../bundle/rsa-wrap";
import type { WalrusClient } from "../../walrus/client";
import type { ClcDatabase } from "../database";
import { imageLaunchPermissions, images } from "../schema";
import { idIs, sameId } from "./id-match";
import { decodeMappings, encodeMappings, parseMappings, rootMapping, type BlockDeviceMapping } from "./block-devices";

export type ImageType = "machine" | "kernel" | "ramdisk";
export type ImageRecord = typeof images.$inferSelect;
export interface ImageView extends ImageRecord {
  isPublic: boolean;
  launchPermissions: string[];
}

export interface Caller {
  accountId: string;
  isAdmin: boolean;
}

const PREFIX: Record<ImageType, "image" | "kernel" | "ramdisk"> = {
  machine: "image",
  kernel: "kernel",
  ramdisk: "ramdisk",
};

/** What an image registered from a bundle is (instance-store: its root is copied from the bundle at each launch). */
const INSTANCE_STORE = {
  rootDeviceType: "instance-store",
  rootDeviceName: "/dev/sda1",
  blockDeviceMappings: "[]",
  virtualizationType: "paravirtual",
  bootMode: null,
  imageState: "available",
} as const;

export const INVALID_MANIFEST = "Image registration failed because the manifest referenced is invalid or unavailable.";

export function createImageService(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  walrus: () => WalrusClient | undefined;
  cloudKeyPem: string;
  certificatesOfAccount(accountId: string): string[];
  /** A completed snapshot the caller may make volumes from (NotFound / IncorrectState otherwise). */
  snapshot: (caller: Caller, id: string) => { id: string; sizeGiB: number };
}) {
  const { db } = o.db;

  function view(rows: ImageRecord[]): ImageView[] {
    if (!rows.length) return [];
    const perms = db
      .select()
      .from(imageLaunchPermissions)
      .where(
        inArray(
          imageLaunchPermissions.imageId,
          rows.map((r) => r.id),
        ),
      )
      .all();
    return rows.map((r) => {
      const granted = perms.filter((p) => p.imageId === r.id).map((p) => p.grantee);
      return { ...r, isPublic: granted.includes("all"), launchPermissions: granted.filter((g) => g !== "all") };
    });
  }

  function get(id: string): ImageRecord {
    const r = db
      .select()
      .from(images)
      .where(and(idIs(images.id, id), eq(images.state, "available")))
      .get();
    if (!r) throw new NotFoundError("image", id);
    return r;
  }

  function canLaunch(caller: Caller, v: ImageView): boolean {
    return (
      caller.isAdmin || v.accountId === caller.accountId || v.isPublic || v.launchPermissions.includes(caller.accountId)
    );
  }

  /** An image the caller may see (else NotFound, as Describe says): own, public or shared with them. */
  function visible(caller: Caller, id: string): ImageView {
    const v = view([get(id)])[0]!;
    if (!canLaunch(caller, v)) throw new NotFoundError("image", id);
    return v;
  }

  /** An image the caller owns. One they cannot see is NotFound — never a hint that it exists. */
  function owned(caller: Caller, id: string): ImageView {
    const v = visible(caller, id);
    if (v.accountId !== caller.accountId && !caller.isAdmin)
      throw new AccessDeniedError(`You are not authorized to change image ${id}`);
    return v;
  }

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
    checkSnapshots,
    parseMappings,

    async register(
      caller: Caller,
      input: {
        location: string;
        name?: string;
        description?: string;
        architecture?: string;
        kernelId?: string;
        ramdiskId?: string;
      },
      ctx: CallContext,
    ): Promise<ImageRecord> {
      const walrus = o.walrus();
      if (!walrus) throw new UnavailableError("Walrus is not reachable from this cloud controller");
      const slash = input.location.indexOf("/");
      if (slash <= 0 || slash === input.location.length - 1)
        throw new InvalidParameterError(
          "ImageLocation",
          `Invalid image location '${input.location}': expected bucket/manifest`,
        );
      const bucket = input.location.slice(0, slash);
      const key = input.location.slice(slash + 1);
      let xml: string;
      try {
        if (!caller.isAdmin && (await walrus.bucketOwner(bucket, ctx)) !== caller.accountId)
          throw new AccessDeniedError(`You do not own bucket ${bucket}`);
        const obj = await walrus.getObject({ bucket, key }, ctx);
        const chunks: Buffer[] = [];
        for await (const c of obj.body) chunks.push(c as Buffer);
        xml = Buffer.concat(chunks).toString("utf8");
      } catch (e) {
        if (e instanceof AccessDeniedError) throw e;
        throw new InvalidParameterError("ImageLocation", INVALID_MANIFEST);
      }
      let manifest: ReturnType<typeof parseManifest>;
      try {
        manifest = parseManifest(xml);
        // Who bundled it: the manifest names the account; its certificates must verify the signature.
        const owner = caller.isAdmin ? manifest.user : caller.accountId;
        if (!verifyManifestSignature(xml, o.certificatesOfAccount(owner))) throw new Error("signature");
        unwrapKey(o.cloudKeyPem, manifest.ec2EncryptedKey);
        unwrapKey(o.cloudKeyPem, manifest.ec2EncryptedIv);
      } catch {
        throw new InvalidParameterError("ImageLocation", INVALID_MANIFEST);
      }
      const base = key.split("/").pop()!;
      const isTrue = (v?: string) => v === "true" || v === "yes";
      const type: ImageType =
        isTrue(manifest.kernelId) || base.startsWith("vmlinuz")
          ? "kernel"
          : isTrue(manifest.ramdiskId) || base.startsWith("initrd")
            ? "ramdisk"
            : "machine";
      if (type !== "machine" && !caller.isAdmin)
        throw new AccessDeniedError(`Only administrators may register ${type} images`);
      const kernelId =
        type === "machine"
          ? (input.kernelId ?? (isTrue(manifest.kernelId) ? undefined : manifest.kernelId))
          : undefined;
      const ramdiskId =
        type === "machine"
          ? (input.ramdiskId ?? (isTrue(manifest.ramdiskId) ? undefined : manifest.ramdiskId))
          : undefined;
      for (const [id, want] of [
        [kernelId, "kernel"],
        [ramdiskId, "ramdisk"],
      ] as const) {
        if (id !== undefined && get(id).type !== want)
          throw new InvalidParameterError(want === "kernel" ? "KernelId" : "RamdiskId", `${id} is not a ${want} image`);
      }
      const r: ImageRecord = {
        id: o.ids.resourceId(PREFIX[type]),
        accountId: caller.accountId,
        location: input.location,
        name: input.name ?? manifest.name,
        description: input.description ?? "",
        architecture: input.architecture ?? manifest.architecture,
        type,
        kernelId: kernelId ?? null,
        ramdiskId: ramdiskId ?? null,
        state: "available",
        size: manifest.size,
        productCodes: (manifest.productCodes ?? []).join(","),
        createdAt: o.clock.now(),
        ...INSTANCE_STORE,
      };
      db.insert(images).values(r).run();
      // Kernels and ramdisks are for everyone to launch with, as in Eucalyptus.
      if (type !== "machine") db.insert(imageLaunchPermissions).values({ imageId: r.id, grantee: "all" }).run();
      return r;
    },

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

    deregister(caller: Caller, id: string): void {
      const stored = owned(caller, id).id;
      db.update(images).set({ state: "deregistered" }).where(eq(images.id, stored)).run();
    },

    /** Images the caller may see: own, public, launchable by them; `all` for an admin's verbose. */
    describe(
      caller: Caller & { all?: boolean },
      f: { ids?: string[]; owners?: string[]; executableBy?: string[] },
    ): ImageView[] {
      const rows = view(db.select().from(images).where(eq(images.state, "available")).orderBy(images.id).all());
      for (const id of f.ids ?? [])
        if (!rows.some((r) => sameId(r.id, id) && (caller.all || canLaunch(caller, r))))
          throw new NotFoundError("image", id);
      return rows.filter((r) => {
        if (!(caller.all || canLaunch(caller, r))) return false;
        if (f.ids?.length && !f.ids.some((id) => sameId(id, r.id))) return false;
        if (
          f.owners?.length &&
          !f.owners.some((w) =>
            w === "self" ? r.accountId === caller.accountId : w === "all" ? true : r.accountId === w,
          )
        )
          return false;
        if (
          f.executableBy?.length &&
          !f.executableBy.some((x) =>
            x === "all"
              ? r.isPublic
              : x === "self"
                ? canLaunch(caller, r)
                : r.isPublic || r.launchPermissions.includes(x) || r.accountId === x,
          )
        )
          return false;
        return true;
      });
    },

    attribute: visible,

    /** Where an image's manifest is, while it is registered ("" once deregistered: instances outlive it). */
    locationOf(id: string): string {
      return (
        db
          .select({ location: images.location })
          .from(images)
          .where(and(eq(images.id, id), eq(images.state, "available")))
          .get()?.location ?? ""
      );
    },

    /** An image's product codes, whatever its state (instances outlive deregistration). */
    productOf(id: string): { productCodes: string[] } | undefined {
      const r = db.select({ codes: images.productCodes }).from(images).where(idIs(images.id, id)).get();
      return r && { productCodes: r.codes.split(",").filter(Boolean) };
    },

    /** Who may launch an image: shown to its owner only, as in EC2. */
    launchPermission: owned,

    modifyLaunchPermission(caller: Caller, requested: string, add: string[], remove: string[]): void {
      const id = owned(caller, requested).id;
      for (const g of add)
        db.insert(imageLaunchPermissions).values({ imageId: id, grantee: g }).onConflictDoNothing().run();
      if (remove.length)
        db.delete(imageLaunchPermissions)
          .where(and(eq(imageLaunchPermissions.imageId, id), inArray(imageLaunchPermissions.grantee, remove)))
          .run();
    },

    modifyDescription(caller: Caller, requested: string, description: string): void {
      const id = owned(caller, requested).id;
      db.update(images).set({ description }).where(eq(images.id, id)).run();
    },

    resetLaunchPermission(caller: Caller, requested: string): void {
      const id = owned(caller, requested).id;
      db.delete(imageLaunchPermissions).where(eq(imageLaunchPermissions.imageId, id)).run();
    },
  };
}

export type ImageService = ReturnType<typeof createImageService>;
