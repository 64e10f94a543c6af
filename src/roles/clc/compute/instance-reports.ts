/**
 * The CLC's instance records kept in line with what its clusters report, by one table
 * (lifecycle/instance.ts RECONCILE): a silent node or cluster changes nothing but the
 * instance's `unreportedSince` (impaired after INSTANCE_REACHABILITY_SECONDS); a guest its
 * answering node no longer runs is terminated with a reason; the user's terminate is an
 * intent, retried until the cluster confirms. What an instance holds — its public and
 * elastic addresses, its volumes — goes back only once its cluster has let go of it, so
 * an address is never handed out while a node may still route it.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../../common/clock";
import type { CallContext } from "../../../rpc/types";
import type { ClusterInstance } from "../../cc/client";
import {
  INSTANCE_TRANSITIONS,
  reconcile,
  statesBefore,
  type InstanceReport,
  type InstanceState,
} from "../../../lifecycle/instance";
import type { ClcDatabase } from "../database";
import { instances } from "../schema";
import type { AddressService } from "./addresses";
import type { Intents } from "./intents";
import type { RegisteredCluster } from "./zones";

type InstanceRecord = typeof instances.$inferSelect;

export const USER_SHUTDOWN = "Client.UserInitiatedShutdown: User initiated shutdown";
export const INSTANCE_SHUTDOWN = "Client.InstanceInitiatedShutdown: Instance initiated shutdown";
export const INTERRUPTED_LAUNCH = "Server.InternalError: the launch was interrupted by a restart";

export interface InstanceReportsDeps {
  db: ClcDatabase;
  clock: Clock;
  log?: Logger;
  clusters: () => readonly RegisteredCluster[];
  addresses: AddressService;
  intents: Intents;
  /** An instance stopped (its node let go of it): its volumes' exports end, its launch address goes back. */
  stopped?: (instanceId: string, ctx: CallContext) => Promise<void>;
  /** Told what the clusters reported of live instances, and which instances ended for good (volumes let go of theirs). */
  reported?: (
    reports: ReadonlyMap<string, ClusterInstance | undefined>,
    ended: ReadonlySet<string>,
    ctx: CallContext,
  ) => Promise<void>;
}

export function createInstanceReports(o: InstanceReportsDeps) {
  const { db } = o.db;
  const clusterOf = (zone: string) => o.clusters().find((c) => c.name === zone);

  /** Moves an instance along INSTANCE_TRANSITIONS only: a terminated instance never comes back. */
  function setState(id: string, state: InstanceState, reason = ""): void {
    db.update(instances)
      .set({
        state,
        stateReason: reason,
        ...(state === "terminated" ? { terminatedAt: o.clock.now(), unreportedSince: null } : {}),
      })
      .where(
        and(
          eq(instances.id, id),
          inArray(
            instances.state,
            statesBefore(INSTANCE_TRANSITIONS, state).filter((s) => s !== "terminated"),
          ),
        ),
      )
      .run();
  }

  /**
   * What the zone's cluster carried out of a terminate or stop of these instances (all of
   * them when the zone's cluster was deregistered: nothing runs them any more). What it did
   * not do keeps its intent with why, retried later; a cluster that does not answer did nothing.
   */
  async function carriedOut(
    kind: "terminate" | "stop",
    zone: string,
    ids: readonly string[],
    ctx: CallContext,
    call: (c: RegisteredCluster) => Promise<{ unfinished: Array<{ instanceId: string; reason: string }> }>,
  ): Promise<string[]> {
    if (!ids.length) return [];
    const c = clusterOf(zone);
    let unfinished = new Map<string, string>();
    if (c) {
      try {
        unfinished = new Map((await call(c)).unfinished.map((u) => [u.instanceId, u.reason]));
      } catch (e) {
        for (const id of ids) o.intents.failed(kind, id, (e as Error).message);
        o.log?.warn(
          { requestId: ctx.requestId, zone, instances: ids, err: (e as Error).message },
          `clc: cluster did not carry out a ${kind}; kept and retried`,
        );
        return [];
      }
    }
    for (const [id, reason] of unfinished) o.intents.failed(kind, id, reason);
    return ids.filter((id) => !unfinished.has(id));
  }

  /**
   * Asks the zone's cluster to let go of these instances. Those it did are finished — a
   * shutting-down one terminated, each one's addresses and volumes given back — and the
   * others keep their intent, retried later. Returns the finished ones.
   */
  async function terminateAt(zone: string, ids: readonly string[], ctx: CallContext): Promise<Set<string>> {
    const done = await carriedOut("terminate", zone, ids, ctx, (c) =>
      c.client.terminateInstances({ instanceIds: [...ids] }, ctx),
    );
    const now = o.clock.now();
    for (const id of done) {
      db.update(instances)
        .set({ state: "terminated", stateReason: USER_SHUTDOWN, terminatedAt: now, unreportedSince: null })
        .where(and(eq(instances.id, id), eq(instances.state, "shutting-down")))
        .run();
      o.addresses.releaseFromInstance(id);
      o.intents.done("terminate", id);
    }
    if (done.length) await o.reported?.(new Map(), new Set(done), ctx);
    return new Set(done);
  }

  /**
   * Asks the zone's cluster to stop these (stopping) instances: those it did are stopped —
   * their volumes stay theirs, their launch address goes back, their private address stays
   * with the cluster — and the others keep their intent, retried later.
   */
  async function stopAt(zone: string, ids: readonly string[], ctx: CallContext, force = false): Promise<Set<string>> {
    const done = await carriedOut("stop", zone, ids, ctx, (c) =>
      c.client.stopInstances({ instanceIds: [...ids], force }, ctx),
    );
    for (const id of done) {
      const moved = db
        .update(instances)
        .set({ state: "stopped", unreportedSince: null })
        .where(and(eq(instances.id, id), eq(instances.state, "stopping")))
        .run().changes;
      o.intents.done("stop", id);
      if (!moved) continue; // terminated meanwhile: the terminate lets go of what it holds
      o.addresses.releaseLaunchAddress(id);
      await o.stopped?.(id, ctx);
      o.log?.info({ requestId: ctx.requestId, instanceId: id }, "clc: instance stopped");
    }
    return new Set(done);
  }

  /** Instances that ended on their own: terminated now, with why; what they hold goes back once their cluster let go. */
  async function end(
    zone: string,
    ended: ReadonlyArray<{ id: string; reason: string }>,
    ctx: CallContext,
  ): Promise<void> {
    for (const { id, reason } of ended) {
      setState(id, "terminated", reason);
      o.intents.record("terminate", id, zone);
    }
    await terminateAt(
      zone,
      ended.map((e) => e.id),
      ctx,
    );
  }

  function markUnreported(id: string, since: Date | null): void {
    db.update(instances).set({ unreportedSince: since }).where(eq(instances.id, id)).run();
  }

  /** Brings recorded states in line with what the clusters report; returns whether any changed. */
  async function refresh(rows: readonly InstanceRecord[], ctx: CallContext): Promise<boolean> {
    const byZone = new Map<string, InstanceRecord[]>();
    for (const r of rows) {
      if (r.state === "terminated") continue;
      byZone.set(r.zone, [...(byZone.get(r.zone) ?? []), r]);
    }
    const zones = [...byZone].map(async ([zone, live]) => {
      const c = clusterOf(zone);
      if (!c) return false;
      let reported: Map<string, ClusterInstance>;
      try {
        reported = new Map(
          (await c.client.describeInstances({ instanceIds: live.map((r) => r.id) }, ctx)).instances.map((i) => [
            i.instanceId,
            i,
          ]),
        );
      } catch {
        // Cluster unreachable: the last known states stand, unreported from now.
        for (const r of live) if (!r.unreportedSince) markUnreported(r.id, o.clock.now());
        return false;
      }
      let changed = false;
      const ended: Array<{ id: string; reason: string }> = [];
      const stopping: string[] = [];
      for (const r of live) {
        const n = reported.get(r.id);
        const report: InstanceReport = !n ? "absent" : n.unreportedSince !== undefined ? "unreported" : n.state;
        if (report === "unreported" && !r.unreportedSince) markUnreported(r.id, new Date(n!.unreportedSince!));
        if (report !== "unreported" && r.unreportedSince) markUnreported(r.id, null);
        // SYSTEM: the address the site's DHCP gave, once the cluster has seen it.
        if (n?.privateIp && n.privateIp !== r.privateIp) {
          db.update(instances).set({ privateIp: n.privateIp }).where(eq(instances.id, r.id)).run();
          changed = true;
        }
        const out = reconcile(r.state, report, n?.reason);
        if (out.retryTerminate) {
          o.intents.record("terminate", r.id, zone); // one recorded before intents were kept
          o.intents.hurry("terminate", r.id);
        }
        if (out.retryStop) {
          o.intents.record("stop", r.id, zone);
          o.intents.hurry("stop", r.id);
        }
        // An EBS-backed guest that shut itself down (or failed to start again) is stopped, not lost: its root is a volume.
        if (out.ended && r.rootDeviceType === "ebs" && (r.state === "pending" || r.shutdownBehavior === "stop")) {
          setState(r.id, "stopping", r.state === "pending" ? out.ended : INSTANCE_SHUTDOWN);
          o.intents.record("stop", r.id, zone);
          stopping.push(r.id);
          changed = true;
        } else if (out.ended) {
          ended.push({ id: r.id, reason: out.ended });
          changed = true;
        } else if (out.next !== r.state) {
          setState(r.id, out.next);
          changed = true;
        }
      }
      await o.reported?.(new Map(live.map((r) => [r.id, reported.get(r.id)])), new Set(), ctx);
      // An instance that ended on its own (a crash, a failed start) is let go at its cluster too,
      // so its placement and addresses go back as they would after TerminateInstances.
      if (ended.length) await end(zone, ended, ctx);
      if (stopping.length) await stopAt(zone, stopping, ctx, true);
      return changed;
    });
    // Zones are asked in parallel: a describe costs the slowest cluster, not their sum.
    return (await Promise.all(zones)).some(Boolean);
  }

  /** Terminates and stops whose time to retry has come, one call per zone. */
  async function retry(ctx: CallContext): Promise<void> {
    const byZone = (kind: "terminate" | "stop") => {
      const m = new Map<string, string[]>();
      for (const i of o.intents.due(kind)) m.set(i.zone, [...(m.get(i.zone) ?? []), i.target]);
      return [...m];
    };
    await Promise.all(byZone("terminate").map(([zone, ids]) => terminateAt(zone, ids, ctx)));
    await Promise.all(byZone("stop").map(([zone, ids]) => stopAt(zone, ids, ctx)));
  }

  return {
    setState,
    refresh,
    terminateAt,
    stopAt,
    end,
    retry,

    /**
     * At start: instances the cloud recorded but no cluster reports (a launch cut short by
     * a crash between the CLC's commit and the cluster's start) are terminated, their
     * addresses returned once the cluster let go. Unreachable clusters are left alone; a
     * shutting-down instance keeps (or gets) its intent.
     */
    async reconcileAtStart(ctx: CallContext): Promise<string[]> {
      const live = db
        .select()
        .from(instances)
        .where(inArray(instances.state, ["pending", "running", "stopping", "shutting-down"]))
        .all();
      const lost: string[] = [];
      for (const zone of new Set(live.map((r) => r.zone))) {
        const c = clusterOf(zone);
        if (!c) continue;
        let known: Set<string>;
        try {
          known = new Set((await c.client.describeInstances({}, ctx)).instances.map((i) => i.instanceId));
        } catch {
          continue;
        }
        const inZone = live.filter((x) => x.zone === zone);
        for (const r of inZone.filter((x) => x.state === "shutting-down")) o.intents.record("terminate", r.id, zone);
        for (const r of inZone.filter((x) => x.state === "stopping")) o.intents.record("stop", r.id, zone);
        const settling = (x: InstanceRecord) => x.state === "shutting-down" || x.state === "stopping";
        const gone = inZone.filter((x) => !settling(x) && !known.has(x.id));
        // An EBS-backed one keeps its volumes: stopped, to be started again, rather than lost.
        const ebs = gone.filter((x) => x.rootDeviceType === "ebs");
        for (const r of ebs) {
          setState(r.id, "stopping", INTERRUPTED_LAUNCH);
          o.intents.record("stop", r.id, zone);
        }
        await stopAt(
          zone,
          ebs.map((r) => r.id),
          ctx,
          true,
        );
        await end(
          zone,
          gone.filter((x) => x.rootDeviceType !== "ebs").map((r) => ({ id: r.id, reason: INTERRUPTED_LAUNCH })),
          ctx,
        );
        lost.push(...gone.map((r) => r.id));
      }
      return lost;
    },
  };
}

export type InstanceReports = ReturnType<typeof createInstanceReports>;
