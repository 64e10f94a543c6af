/**
 * Instances as the cloud records them: RunInstances validates (image, kernel/ramdisk,
 * key pair, groups, type, zone, count), reserves private addresses and records the
 * reservation in one transaction, then asks the zone's cluster to place and start it —
 * all or nothing. States follow the nodes' reports by one table (./instance-reports.ts),
 * taken by sync() in the background and at once for pending instances; silence never
 * ends an instance; terminated instances stay visible for 10 minutes, as in Eucalyptus.
 */
import { and, eq, getTableColumns, inArray, isNull, or, gt, lt } from "drizzle-orm";
import {
  IncorrectStateError,
  InsufficientCapacityError,
  NotFoundError,
  UnsupportedError,
} from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import { addresses, instances } from "../schema";
import { idIn, idIs, sameId } from "./id-match";
import { createInstanceReports } from "./instance-reports";
import { createLaunch } from "./instance-launch";
import { createInstanceBoot } from "./instance-boot";
import { createInstanceAttributes } from "./instance-attributes";
import { USER_SHUTDOWN } from "./instance-reports";
import {
  clusterOf,
  TERMINATED_VISIBLE_MS,
  type Caller,
  type InstanceRecord,
  type InstanceServiceDeps,
  type InstanceState,
} from "./instance-records";

export type { Caller, InstanceRecord, InstanceState, RunInput } from "./instance-records";
export { INSTANCE_STATE_CODES as STATE_CODES } from "../../../lifecycle/instance";
export { TERMINATED_VISIBLE_MS } from "./instance-records";

export function createInstanceService(o: InstanceServiceDeps) {
  const { db, sqlite } = o.db;
  const reports = createInstanceReports({
    ...o,
    stopped: (id, ctx) => o.volumes.unexport(id, ctx),
  });
  const { setState, refresh } = reports;
  const groupsOf = (r: InstanceRecord) => JSON.parse(r.groups) as Array<{ id: string; name: string }>;

  const cluster = (zone: string) => clusterOf(o.clusters(), zone);
  const boot = createInstanceBoot(o, reports, cluster);
  /** EC2's StateTransitionReason for a move the user asked for. */
  const userInitiated = () => `User initiated (${o.clock.now().toISOString().replace("T", " ").slice(0, 19)} GMT)`;

  // A whole listing (no ids) is the hot path of a big cloud: one prepared statement, rows
  // mapped by hand (drizzle's per-row mapping cost more than SQLite itself at 10,000 rows).
  const columns = Object.entries(getTableColumns(instances));
  const keys = columns.map(([k]) => k);
  const isDate = columns.map(([, c]) => c.columnType === "SQLiteTimestamp");
  const isBool = columns.map(([, c]) => c.columnType === "SQLiteBoolean");
  const listing = (scope: "all" | "account") =>
    sqlite
      .prepare(
        `SELECT ${columns.map(([, c]) => `"${c.name}"`).join(", ")} FROM instances
     WHERE (terminated_at IS NULL OR terminated_at > @cutoff) ${scope === "account" ? "AND account_id = @accountId" : ""}
     ORDER BY launch_time, launch_index`,
      )
      .raw(true);
  const listAll = listing("all");
  const listAccount = listing("account");
  const record = (row: unknown[]): InstanceRecord => {
    const r: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++)
      r[keys[i]!] = row[i] === null ? null : isDate[i] ? new Date(row[i] as number) : isBool[i] ? row[i] === 1 : row[i];
    return r as InstanceRecord;
  };

  function visible(caller: Caller & { all?: boolean }, ids?: readonly string[]): InstanceRecord[] {
    const cutoff = new Date(o.clock.now().getTime() - TERMINATED_VISIBLE_MS);
    if (!ids?.length) {
      const rows = (
        caller.all
          ? listAll.all({ cutoff: cutoff.getTime() })
          : listAccount.all({ cutoff: cutoff.getTime(), accountId: caller.accountId })
      ) as unknown[][];
      return rows.map(record);
    }
    const conds = [or(isNull(instances.terminatedAt), gt(instances.terminatedAt, cutoff))];
    if (!caller.all) conds.push(eq(instances.accountId, caller.accountId));
    if (ids?.length) conds.push(idIn(instances.id, ids));
    return db
      .select()
      .from(instances)
      .where(and(...conds))
      .orderBy(instances.launchTime, instances.launchIndex)
      .all();
  }

  function owned(caller: Caller, ids: readonly string[]): InstanceRecord[] {
    const rows = visible({ ...caller, all: caller.isAdmin }, ids);
    for (const id of ids) {
      const r = rows.find((x) => sameId(x.id, id));
      if (!r || (r.accountId !== caller.accountId && !caller.isAdmin)) throw new NotFoundError("instance", id);
    }
    return rows;
  }

  return {
    run: createLaunch(o, cluster, boot),

    attributes: createInstanceAttributes({
      db: o.db,
      images: o.images,
      vmTypes: o.vmTypes,
      volumes: o.volumes,
      owned: (caller, id) => owned({ ...caller, isAdmin: false }, [id])[0]!,
    }),

    async describe(
      caller: Caller & { all?: boolean },
      ids: readonly string[],
      ctx: CallContext,
    ): Promise<InstanceRecord[]> {
      const rows = visible(caller, ids);
      for (const id of ids) if (!rows.some((r) => sameId(r.id, id))) throw new NotFoundError("instance", id);
      // Pending is a moment: those are asked at once. Running ones are kept current by sync().
      const changed = await refresh(
        rows.filter((r) => r.state === "pending"),
        ctx,
      );
      // Long-terminated records go (Eucalyptus' BURY_TIME is an hour).
      const buried = db
        .delete(instances)
        .where(lt(instances.terminatedAt, new Date(o.clock.now().getTime() - 6 * TERMINATED_VISIBLE_MS)))
        .run().changes;
      return changed || buried ? visible(caller, ids) : rows;
    },

    /**
     * ConfirmProductInstance: whether the instance runs an image carrying the product
     * code; then the instance's owner is told. Product codes have no owner record
     * here, so knowing the code is what makes a caller its vendor: an empty code
     * matches nothing, and every other answer is `false` — an id that does not
     * exist and one in another account that runs other code look the same.
     */
    confirmProduct(instanceId: string, productCode: string): { ownerId: string } | undefined {
      if (productCode === "") return undefined;
      const r = db.select().from(instances).where(idIs(instances.id, instanceId)).get();
      if (!r || r.state === "terminated" || !o.images.productOf(r.imageId)?.productCodes.includes(productCode))
        return undefined;
      return { ownerId: r.accountId };
    },

    async terminate(
      caller: Caller,
      ids: readonly string[],
      ctx: CallContext,
    ): Promise<Array<{ id: string; previous: InstanceState; current: InstanceState }>> {
      const rows = owned(caller, ids);
      // Termination protection refuses the whole request before anything is done, as EC2 does.
      const protectedOne = rows.find((r) => r.disableApiTermination && r.state !== "terminated");
      if (protectedOne)
        throw new IncorrectStateError(
          `The instance '${protectedOne.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
          "termination-protected",
        );
      const out: Array<{ id: string; previous: InstanceState; current: InstanceState }> = [];
      for (const r of rows) {
        if (r.state === "terminated") {
          // Terminating a terminated instance buries it at once (Eucalyptus).
          db.update(instances)
            .set({ terminatedAt: new Date(0) })
            .where(eq(instances.id, r.id))
            .run();
          out.push({ id: r.id, previous: "terminated", current: "terminated" });
          continue;
        }
        // An intent first: a node that does not answer now carries it out when it is heard again.
        sqlite.transaction(() => {
          setState(r.id, "shutting-down");
          db.update(instances).set({ transitionReason: userInitiated() }).where(eq(instances.id, r.id)).run();
          o.intents.record("terminate", r.id, r.zone);
          o.intents.done("stop", r.id); // a terminate overtakes a stop still to be carried out
        })();
        const done = await reports.terminateAt(r.zone, [r.id], ctx);
        out.push({ id: r.id, previous: r.state, current: done.has(r.id) ? "terminated" : "shutting-down" });
      }
      return out;
    },

    async reboot(caller: Caller, ids: readonly string[], ctx: CallContext): Promise<void> {
      for (const r of owned(caller, ids)) {
        if (r.state !== "running")
          throw new IncorrectStateError(
            `The instance '${r.id}' is not in a state from which it can be rebooted.`,
            "instance",
          );
        await cluster(r.zone).client.rebootInstances({ instanceIds: [r.id] }, ctx);
      }
    },

    /**
     * StopInstances: an EBS-backed instance's guest shuts down (destroyed at once with
     * `force`, after a timeout otherwise) and its node lets go of it; it keeps its id,
     * volumes and private address. A node that does not answer keeps it `stopping`, the stop
     * retried. Instance-store instances refuse, as on EC2.
     */
    async stop(
      caller: Caller,
      ids: readonly string[],
      force: boolean,
      ctx: CallContext,
    ): Promise<Array<{ id: string; previous: InstanceState; current: InstanceState }>> {
      const rows = owned(caller, ids);
      for (const r of rows) {
        if (r.state === "terminated" || r.state === "shutting-down" || r.state === "pending")
          throw new IncorrectStateError(
            `The instance '${r.id}' is not in a state from which it can be stopped.`,
            "instance",
          );
        if (r.rootDeviceType !== "ebs")
          throw new UnsupportedError(
            `The instance '${r.id}' does not have an 'ebs' root device type and cannot be stopped.`,
          );
      }
      const out: Array<{ id: string; previous: InstanceState; current: InstanceState }> = [];
      for (const r of rows) {
        if (r.state === "stopped" || (r.state === "stopping" && !force)) {
          out.push({ id: r.id, previous: r.state, current: r.state });
          continue;
        }
        sqlite.transaction(() => {
          setState(r.id, "stopping", USER_SHUTDOWN);
          db.update(instances).set({ transitionReason: userInitiated() }).where(eq(instances.id, r.id)).run();
          o.intents.record("stop", r.id, r.zone);
        })();
        const done = await reports.stopAt(r.zone, [r.id], ctx, force);
        out.push({ id: r.id, previous: r.state, current: done.has(r.id) ? "stopped" : "stopping" });
      }
      return out;
    },

    /** StartInstances: a stopped EBS-backed instance is placed again (`pending`), same id, volumes and private address. */
    async start(
      caller: Caller,
      ids: readonly string[],
      ctx: CallContext,
    ): Promise<Array<{ id: string; previous: InstanceState; current: InstanceState }>> {
      const rows = owned(caller, ids);
      for (const r of rows) {
        if (!["stopped", "pending", "running"].includes(r.state))
          throw new IncorrectStateError(
            `The instance '${r.id}' is not in a state from which it can be started.`,
            "instance",
          );
        if (r.rootDeviceType !== "ebs")
          throw new UnsupportedError(
            `The instance '${r.id}' does not have an 'ebs' root device type and cannot be started.`,
          );
      }
      const out: Array<{ id: string; previous: InstanceState; current: InstanceState }> = [];
      for (const r of rows) {
        if (r.state !== "stopped") {
          out.push({ id: r.id, previous: r.state, current: r.state }); // starting or running already
          continue;
        }
        const moved = sqlite.transaction(() => {
          const n = db
            .update(instances)
            .set({ state: "pending", stateReason: "", transitionReason: "", launchTime: o.clock.now() })
            .where(and(eq(instances.id, r.id), eq(instances.state, "stopped")))
            .run().changes;
          if (n && r.publicAddressing && o.addresses.enabled() && !o.addresses.publicIpOf(r.id)) {
            try {
              o.addresses.assignAtLaunch(r.id);
            } catch (e) {
              if (!(e instanceof InsufficientCapacityError)) throw e; // no address left: it starts without one
            }
          }
          return n;
        })();
        if (moved) boot.start({ ...r, state: "pending" }, ctx);
        out.push({ id: r.id, previous: "stopped", current: "pending" });
      }
      return out;
    },

    async consoleOutput(caller: Caller, id: string, ctx: CallContext): Promise<{ output: string; timestamp: Date }> {
      const [r] = owned(caller, [id]);
      if (r!.state === "terminated") return { output: "", timestamp: o.clock.now() };
      return {
        ...(await cluster(r!.zone).client.getConsoleOutput({ instanceId: r!.id }, ctx)),
        timestamp: o.clock.now(),
      };
    },

    groupsOf,

    /**
     * Brings every live instance in line with its cluster's report (a background round, as
     * Eucalyptus' CLC polled its CCs), so a DescribeInstances reads the database, not the clusters.
     */
    async sync(ctx: CallContext): Promise<void> {
      await refresh(
        db
          .select()
          .from(instances)
          .where(inArray(instances.state, ["pending", "running", "stopping", "shutting-down"]))
          .all(),
        ctx,
      );
      await reports.retry(ctx);
    },

    /** Since when an instance is impaired (its node silent past INSTANCE_REACHABILITY_SECONDS); undefined while it is not. */
    impairedSince(r: InstanceRecord): Date | undefined {
      if (!r.unreportedSince || r.state === "terminated") return undefined;
      return o.clock.now().getTime() - r.unreportedSince.getTime() >= o.reachabilityMs ? r.unreportedSince : undefined;
    },

    reconcile: (ctx: CallContext) => reports.reconcileAtStart(ctx),

    /** The live instance using a private (or its public) address: the metadata service's caller. */
    byAddress(ip: string): InstanceRecord | undefined {
      if (!ip) return undefined; // an instance whose address is still being leased
      const live = inArray(instances.state, ["pending", "running"]);
      const byPrivate = db
        .select()
        .from(instances)
        .where(and(eq(instances.privateIp, ip), live))
        .get();
      if (byPrivate) return byPrivate;
      const id = db.select({ id: addresses.instanceId }).from(addresses).where(eq(addresses.publicIp, ip)).get()?.id;
      return id
        ? db
            .select()
            .from(instances)
            .where(and(eq(instances.id, id), live))
            .get()
        : undefined;
    },

    /** One of the caller's instances (another tenant's is not found). */
    owned: (caller: Caller, id: string): InstanceRecord => owned({ ...caller, isAdmin: false }, [id])[0]!,

    /** The instance's record, whatever its state. */
    byId: (id: string): InstanceRecord | undefined => db.select().from(instances).where(eq(instances.id, id)).get(),

    /** The instance, while it is pending or running (a node's metadata request names it). */
    running(id: string): InstanceRecord | undefined {
      return db
        .select()
        .from(instances)
        .where(and(eq(instances.id, id), inArray(instances.state, ["pending", "running"])))
        .get();
    },

    publicIpOf: (id: string) => o.addresses.publicIpOf(id),

    /**
     * An elastic address left a live instance (Disassociate, Release): one launched with a
     * public address gets a new one from the pool, as Eucalyptus and EC2 give it (none
     * when the pool is empty).
     */
    restorePublicAddress(id: string | undefined): void {
      if (!id) return;
      sqlite.transaction(() => {
        const r = db.select().from(instances).where(eq(instances.id, id)).get();
        if (!r || !r.publicAddressing || !["pending", "running"].includes(r.state) || o.addresses.publicIpOf(id))
          return;
        try {
          o.addresses.assignAtLaunch(id);
        } catch (e) {
          if (!(e instanceof InsufficientCapacityError)) throw e;
        }
      })();
    },

    /** An instance the caller may associate an address with. */
    live(caller: Caller, id: string): InstanceRecord {
      const [r] = owned(caller, [id]);
      if (r!.state === "terminated" || r!.state === "shutting-down")
        throw new IncorrectStateError(`The instance '${id}' is not running`);
      return r!;
    },
  };
}

export type InstanceService = ReturnType<typeof createInstanceService>;
