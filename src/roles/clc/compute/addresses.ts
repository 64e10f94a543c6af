/**
 * Public addresses from the configured pool (Eucalyptus' elastic IPs): allocated to
 * an account, associated with an instance, or assigned to an instance at launch and
 * returned at terminate. The pool is synchronised from the settings at start
 * (addresses removed from the settings stay only while in use).
 */
import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { IdGenerator } from "../../../common/ids";
import {
  InvalidParameterError,
  NotFoundError,
  IncorrectStateError,
  InsufficientCapacityError,
  UnsupportedError,
} from "../../../common/errors";
import type { ClcDatabase } from "../database";
import { addresses } from "../schema";

export type AddressRecord = typeof addresses.$inferSelect;

export function expandIpRanges(spec: string): string[] {
  const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
  const out: string[] = [];
  for (const part of spec
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const [a, b = a] = part.split("-") as [string, string?];
    for (let n = toInt(a); n <= toInt(b!) && out.length < 65536; n++) out.push(toIp(n));
  }
  return out;
}

export function createAddressService(o: {
  db: ClcDatabase;
  ids: IdGenerator;
  pool: readonly string[];
  maxPerUser: number;
  /** Why this cloud has no elastic addresses at all (SYSTEM, STATIC: a guest's address is on the site's LAN already). */
  unsupported?: string;
}) {
  const { db, sqlite } = o.db;
  const id = (prefix: string) => `${prefix}-${o.ids.resourceId("instance").slice(2).toLowerCase()}`;

  // Bring the pool in line with the settings.
  sqlite.transaction(() => {
    for (const ip of o.pool) db.insert(addresses).values({ publicIp: ip }).onConflictDoNothing().run();
    for (const r of db.select().from(addresses).all()) {
      if (!o.pool.includes(r.publicIp) && !r.accountId && !r.instanceId)
        db.delete(addresses).where(eq(addresses.publicIp, r.publicIp)).run();
    }
  })();

  const free = () =>
    db
      .select()
      .from(addresses)
      .where(and(isNull(addresses.accountId), isNull(addresses.instanceId)))
      .orderBy(addresses.publicIp)
      .get();

  function own(accountId: string, ref: { publicIp?: string; allocationId?: string }, isAdmin = false): AddressRecord {
    const r =
      ref.allocationId !== undefined
        ? db.select().from(addresses).where(eq(addresses.allocationId, ref.allocationId)).get()
        : db
            .select()
            .from(addresses)
            .where(eq(addresses.publicIp, ref.publicIp ?? ""))
            .get();
    if (!r || !r.accountId || (r.accountId !== accountId && !isAdmin))
      throw new NotFoundError("address", ref.allocationId ?? ref.publicIp ?? "");
    return r;
  }

  return {
    enabled: () => o.pool.length > 0,

    allocate(accountId: string, isAdmin: boolean): AddressRecord {
      if (o.unsupported) throw new UnsupportedError(o.unsupported);
      return sqlite.transaction(() => {
        const held = db.select().from(addresses).where(eq(addresses.accountId, accountId)).all().length;
        if (!isAdmin && held >= o.maxPerUser)
          throw new InvalidParameterError("Domain", `You may hold at most ${o.maxPerUser} addresses`, "address-limit");
        const r = free();
        if (!r) throw new InvalidParameterError("Domain", "Not enough resources available: addresses", "address-limit");
        const row = { ...r, accountId, allocationId: id("eipalloc") };
        db.update(addresses)
          .set({ accountId, allocationId: row.allocationId })
          .where(eq(addresses.publicIp, r.publicIp))
          .run();
        return row;
      })();
    },

    /** Returns the address to the pool; answers the instance it was associated with, if any. */
    release(
      accountId: string,
      isAdmin: boolean,
      ref: { publicIp?: string; allocationId?: string },
    ): string | undefined {
      const r = own(accountId, ref, isAdmin);
      db.update(addresses)
        .set({ accountId: null, allocationId: null, instanceId: null, associationId: null, system: false })
        .where(eq(addresses.publicIp, r.publicIp))
        .run();
      return r.instanceId ?? undefined;
    },

    /**
     * Associates an elastic address with an instance, returning the instance's launch
     * address to the pool; `previous` is the instance that held the address before.
     */
    associate(
      accountId: string,
      isAdmin: boolean,
      ref: { publicIp?: string; allocationId?: string },
      instanceId: string,
    ): AddressRecord & { previous?: string } {
      const r = own(accountId, ref, isAdmin);
      return sqlite.transaction(() => {
        db.update(addresses)
          .set({ instanceId: null, associationId: null, system: false })
          .where(and(eq(addresses.instanceId, instanceId), eq(addresses.system, true)))
          .run();
        db.update(addresses)
          .set({ instanceId: null, associationId: null })
          .where(eq(addresses.instanceId, instanceId))
          .run();
        const associationId = id("eipassoc");
        db.update(addresses).set({ instanceId, associationId }).where(eq(addresses.publicIp, r.publicIp)).run();
        return {
          ...r,
          instanceId,
          associationId,
          previous: r.instanceId && r.instanceId !== instanceId ? r.instanceId : undefined,
        };
      })();
    },

    disassociate(
      accountId: string,
      isAdmin: boolean,
      ref: { publicIp?: string; associationId?: string },
    ): string | undefined {
      const r =
        ref.associationId !== undefined
          ? db.select().from(addresses).where(eq(addresses.associationId, ref.associationId)).get()
          : db
              .select()
              .from(addresses)
              .where(eq(addresses.publicIp, ref.publicIp ?? ""))
              .get();
      if (!r || !r.accountId || (r.accountId !== accountId && !isAdmin))
        throw new NotFoundError("address", ref.associationId ?? ref.publicIp ?? "");
      if (!r.instanceId) throw new IncorrectStateError(`The address ${r.publicIp} is not associated`);
      db.update(addresses)
        .set({ instanceId: null, associationId: null })
        .where(eq(addresses.publicIp, r.publicIp))
        .run();
      return r.instanceId;
    },

    /** A launch address for an instance (inside the launch transaction). */
    assignAtLaunch(instanceId: string): string {
      const r = free();
      if (!r)
        throw new InsufficientCapacityError("Not enough resources available: addresses (try --addressing private)");
      db.update(addresses).set({ instanceId, system: true }).where(eq(addresses.publicIp, r.publicIp)).run();
      return r.publicIp;
    },

    /** At stop: the launch address goes back to the pool; an elastic one stays associated (as EC2 keeps it). */
    releaseLaunchAddress(instanceId: string): void {
      db.update(addresses)
        .set({ instanceId: null, associationId: null, system: false })
        .where(and(eq(addresses.instanceId, instanceId), eq(addresses.system, true)))
        .run();
    },

    /** At terminate: launch addresses go back to the pool, elastic ones are disassociated. */
    releaseFromInstance(instanceId: string): void {
      db.update(addresses)
        .set({ instanceId: null, associationId: null, system: false })
        .where(and(eq(addresses.instanceId, instanceId), eq(addresses.system, true)))
        .run();
      db.update(addresses)
        .set({ instanceId: null, associationId: null })
        .where(eq(addresses.instanceId, instanceId))
        .run();
    },

    /** Public addresses by instance, for a listing (one query, not one per instance). */
    publicIpsOf(instanceIds: readonly string[]): Map<string, string> {
      const wanted = new Set(instanceIds);
      const out = new Map<string, string>();
      for (const r of db
        .select({ ip: addresses.publicIp, id: addresses.instanceId })
        .from(addresses)
        .where(isNotNull(addresses.instanceId))
        .all()) {
        if (wanted.has(r.id!)) out.set(r.id!, r.ip);
      }
      return out;
    },

    publicIpOf(instanceId: string): string | undefined {
      return db.select({ ip: addresses.publicIp }).from(addresses).where(eq(addresses.instanceId, instanceId)).get()
        ?.ip;
    },

    /** The account's addresses, or the whole pool (an admin's verbose). */
    list(accountId: string, all = false): AddressRecord[] {
      const q = db.select().from(addresses);
      return (all ? q : q.where(eq(addresses.accountId, accountId))).orderBy(addresses.publicIp).all();
    },
  };
}

export type AddressService = ReturnType<typeof createAddressService>;
