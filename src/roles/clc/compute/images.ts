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
import { createEbsImages } from "./ebs-images";
import type { Caller, ImageRecord, ImageType, ImageView } from "./image-records";

export type { Caller, ImageRecord, ImageType, ImageView } from "./image-records";

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

  return {
    ...createEbsImages({ ...o, get, visible }),

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
