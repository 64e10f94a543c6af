/**
 * Tags on the cloud's resources. A resource is known by its id prefix; tagging needs
 * ownership of the resource.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { InvalidParameterError, NotFoundError, type Resource } from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { images, instances, keyPairs, securityGroups, snapshots, tags, volumes } from "../schema";
import { idIs } from "./id-match";

export type ResourceType = "image" | "security-group" | "key-pair" | "instance" | "volume" | "snapshot";

export interface TagRecord {
  resourceId: string;
  resourceType: ResourceType;
  key: string;
  value: string;
}

export const MAX_TAGS = 50;

export function resourceTypeOf(id: string): ResourceType | undefined {
  const prefix = id.split("-")[0];
  switch (prefix) {
    case "emi":
    case "eki":
    case "eri":
    case "ami":
      return "image";
    case "sg":
      return "security-group";
    case "key":
      return "key-pair";
    case "i":
      return "instance";
    case "vol":
      return "volume";
    case "snap":
      return "snapshot";
    default:
      return undefined;
  }
}

/** The EC2 resource type (DescribeTags' spelling) as a domain resource. */
const RESOURCE_OF: Record<ResourceType, Resource> = {
  image: "image",
  "security-group": "security group",
  "key-pair": "key pair",
  instance: "instance",
  volume: "volume",
  snapshot: "snapshot",
};

export function createTagService({ db, sqlite }: ClcDatabase) {
  /** The owning account of a resource and its id as stored (a request may spell it in another case), or NotFound. */
  function ownerOf(id: string): { a: string; id: string } {
    const type = resourceTypeOf(id.toLowerCase());
    const row =
      type === "image"
        ? db
            .select({ a: images.accountId, id: images.id })
            .from(images)
            .where(and(idIs(images.id, id), eq(images.state, "available")))
            .get()
        : type === "security-group"
          ? db
              .select({ a: securityGroups.accountId, id: securityGroups.id })
              .from(securityGroups)
              .where(idIs(securityGroups.id, id))
              .get()
          : type === "key-pair"
            ? db.select({ a: keyPairs.accountId, id: keyPairs.id }).from(keyPairs).where(idIs(keyPairs.id, id)).get()
            : type === "instance"
              ? db
                  .select({ a: instances.accountId, id: instances.id })
                  .from(instances)
                  .where(idIs(instances.id, id))
                  .get()
              : type === "volume"
                ? db
                    .select({ a: volumes.accountId, id: volumes.id })
                    .from(volumes)
                    .where(and(idIs(volumes.id, id), isNull(volumes.deletedAt)))
                    .get()
                : type === "snapshot"
                  ? db
                      .select({ a: snapshots.accountId, id: snapshots.id })
                      .from(snapshots)
                      .where(idIs(snapshots.id, id))
                      .get()
                  : undefined;
    if (!row) throw new NotFoundError(type ? RESOURCE_OF[type] : "resource", id);
    return row;
  }

  function checkTag(key: string, value: string): void {
    if (key.length < 1 || key.length > 128) throw new InvalidParameterError("Tag.Key", "Tag keys are 1-128 characters");
    if (key.toLowerCase().startsWith("aws:"))
      throw new InvalidParameterError("Tag.Key", "Tag keys starting with 'aws:' are reserved");
    if (value.length > 256) throw new InvalidParameterError("Tag.Value", "Tag values are at most 256 characters");
  }

  /** The resources' ids as stored, once each is found to be the account's. */
  function owned(accountId: string, ids: readonly string[]): string[] {
    return ids.map((id) => {
      const type = resourceTypeOf(id.toLowerCase());
      const r = ownerOf(id);
      if (r.a !== accountId) throw new NotFoundError(type ? RESOURCE_OF[type] : "resource", id);
      return r.id;
    });
  }

  return {
    /** Tags for a resource about to be made (RunInstances' TagSpecification), checked before it is. */
    check(pairs: ReadonlyArray<{ key: string; value: string }>): void {
      for (const p of pairs) checkTag(p.key, p.value);
      if (new Set(pairs.map((p) => p.key)).size > MAX_TAGS)
        throw new InvalidParameterError("Tag", `A resource may have at most ${MAX_TAGS} tags`);
    },

    create(
      accountId: string,
      resourceIds: readonly string[],
      pairs: ReadonlyArray<{ key: string; value: string }>,
    ): void {
      for (const p of pairs) checkTag(p.key, p.value);
      const stored = owned(accountId, resourceIds);
      sqlite.transaction(() => {
        for (const resourceId of stored) {
          for (const p of pairs) {
            db.insert(tags)
              .values({ resourceId, accountId, key: p.key, value: p.value })
              .onConflictDoUpdate({ target: [tags.resourceId, tags.key], set: { value: p.value } })
              .run();
          }
          const n = db.select({ k: tags.key }).from(tags).where(eq(tags.resourceId, resourceId)).all().length;
          if (n > MAX_TAGS) throw new InvalidParameterError("Tag", `A resource may have at most ${MAX_TAGS} tags`);
        }
      })();
    },

    /** Deletes the named tags (only when the value matches, if one is given), or all tags when none are named. */
    delete(
      accountId: string,
      resourceIds: readonly string[],
      pairs: ReadonlyArray<{ key: string; value?: string }>,
    ): void {
      const stored = owned(accountId, resourceIds);
      sqlite.transaction(() => {
        for (const resourceId of stored) {
          if (pairs.length === 0) db.delete(tags).where(eq(tags.resourceId, resourceId)).run();
          for (const p of pairs) {
            const cond = [eq(tags.resourceId, resourceId), eq(tags.key, p.key)];
            if (p.value !== undefined) cond.push(eq(tags.value, p.value));
            db.delete(tags)
              .where(and(...cond))
              .run();
          }
        }
      })();
    },

    /** The account's tags. */
    list(accountId: string): TagRecord[] {
      const rows = db.select().from(tags).where(eq(tags.accountId, accountId)).orderBy(tags.resourceId, tags.key).all();
      return rows.map((r) => ({
        resourceId: r.resourceId,
        resourceType: resourceTypeOf(r.resourceId)!,
        key: r.key,
        value: r.value,
      }));
    },

    /** Tags of the given resources, by resource id. */
    of(resourceIds: readonly string[]): Map<string, Record<string, string>> {
      const out = new Map<string, Record<string, string>>();
      if (!resourceIds.length) return out;
      // A long list (a whole listing) reads the table once rather than building a query with 10,000 parameters.
      const wanted = new Set(resourceIds);
      const rows =
        resourceIds.length > 500
          ? db
              .select()
              .from(tags)
              .all()
              .filter((r) => wanted.has(r.resourceId))
          : db
              .select()
              .from(tags)
              .where(inArray(tags.resourceId, [...resourceIds]))
              .all();
      for (const r of rows) out.set(r.resourceId, { ...out.get(r.resourceId), [r.key]: r.value });
      return out;
    },

    /** Drops a deleted resource's tags. */
    forget(resourceId: string): void {
      db.delete(tags).where(idIs(tags.resourceId, resourceId)).run();
    },
  };
}

export type TagService = ReturnType<typeof createTagService>;
