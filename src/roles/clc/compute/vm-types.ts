/** VM types: seeded with the Eucalyptus 1.6.2 defaults (reference §5.5), editable by the admin. */
import { asc, eq, sql } from "drizzle-orm";
import { InvalidParameterError, NotFoundError } from "../../../common/errors";
import type { VmTypeSpec } from "../../cc/client";
import type { ClcDatabase } from "../database";
import { vmTypes } from "../schema";

export const DEFAULT_VM_TYPES: readonly VmTypeSpec[] = [
  { name: "m1.small", cpus: 1, memoryMb: 128, diskGb: 2 },
  { name: "c1.medium", cpus: 1, memoryMb: 256, diskGb: 5 },
  { name: "m1.large", cpus: 2, memoryMb: 512, diskGb: 10 },
  { name: "m1.xlarge", cpus: 2, memoryMb: 1024, diskGb: 20 },
  { name: "c1.xlarge", cpus: 4, memoryMb: 2048, diskGb: 20 },
];

const NAME = /^[a-z0-9][a-z0-9.-]{0,31}$/;

export function createVmTypeService({ db }: ClcDatabase) {
  return {
    /** Seeds the defaults into an empty table; returns how many were added. */
    seedDefaults(): number {
      const n = db
        .select({ n: sql<number>`count(*)` })
        .from(vmTypes)
        .get()!.n;
      if (n > 0) return 0;
      DEFAULT_VM_TYPES.forEach((t, i) =>
        db
          .insert(vmTypes)
          .values({ ...t, position: i })
          .run(),
      );
      return DEFAULT_VM_TYPES.length;
    },
    list(): VmTypeSpec[] {
      return db
        .select({ name: vmTypes.name, cpus: vmTypes.cpus, memoryMb: vmTypes.memoryMb, diskGb: vmTypes.diskGb })
        .from(vmTypes)
        .orderBy(asc(vmTypes.position), asc(vmTypes.name))
        .all();
    },
    get(name: string): VmTypeSpec {
      const t = this.list().find((v) => v.name === name);
      if (!t) throw new NotFoundError("vm type", name);
      return t;
    },
    /** Changes a type, or adds it at the end of the list. */
    set(t: VmTypeSpec): VmTypeSpec {
      if (!NAME.test(t.name))
        throw new InvalidParameterError(
          "name",
          `VM type name '${t.name}' is invalid (lower-case letters, digits, '.', '-')`,
        );
      for (const [field, v] of [
        ["cpus", t.cpus],
        ["memoryMb", t.memoryMb],
        ["diskGb", t.diskGb],
      ] as const) {
        if (!Number.isInteger(v) || v < 1)
          throw new InvalidParameterError(field, `${field} must be a positive integer, got ${v}`);
      }
      const existing = db.select().from(vmTypes).where(eq(vmTypes.name, t.name)).get();
      if (existing) {
        db.update(vmTypes)
          .set({ cpus: t.cpus, memoryMb: t.memoryMb, diskGb: t.diskGb })
          .where(eq(vmTypes.name, t.name))
          .run();
      } else {
        const last = db
          .select({ m: sql<number>`coalesce(max(position), -1)` })
          .from(vmTypes)
          .get()!.m;
        db.insert(vmTypes)
          .values({ ...t, position: last + 1 })
          .run();
      }
      return t;
    },
  };
}

export type VmTypeService = ReturnType<typeof createVmTypeService>;
