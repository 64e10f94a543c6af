/**
 * The node controller: runs instances through the Hypervisor, stages their images
 * from Walrus into the node's cache, builds per-instance disks, and reports
 * Pending / Extant / Teardown and the capacity left. Requests are recorded in nc.db,
 * so a restarted NC adopts what is still running and tears down what was cut short.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { and, eq, inArray, isNull, lt, ne, or } from "drizzle-orm";
import type { Logger } from "pino";
import type { NodeNetwork } from "./node-network";
import { nodeVolumes } from "./volumes";
import { volumeDisk } from "./volume-disks";
import { guestControls } from "./guest-controls";
import { nodeMigration } from "./migration";
import { nodeForwards, sameForwards } from "./forwards";
import { nodeResource, type NodeLimits } from "./resource";

export type { NodeLimits } from "./resource";
import { domainErrorsOf } from "./domain-errors";
import type { Clock } from "../../common/clock";
import {
  IncorrectStateError,
  InsufficientCapacityError,
  InvalidParameterError,
  NotFoundError,
} from "../../common/errors";
import type { CallContext } from "../../rpc/types";
import { HypervisorError, type Hypervisor, type NicSpec } from "../../hypervisor/types";
import type { HostProbe } from "./host-probe";
import type { NodeClient, NodeInstance, RunInstanceRequest } from "./client";
import type { NcDatabase } from "./database";
import { ncInstances } from "./database";
import type { NodeImageCache } from "./image-cache";
import { runProgram, type ProgramRunner } from "../../common/run-program";
import { domainSpecOf } from "./domain-spec";
import { NODE_TRANSITIONS, reportedState, statesBefore } from "../../lifecycle/instance";

export interface NodeServiceDeps {
  db: NcDatabase;
  hypervisor: Hypervisor;
  images: NodeImageCache;
  probe: HostProbe;
  instancesDir: string;
  limits: NodeLimits;
  clock: Clock;
  log: Logger;
  /** For mkswap, mke2fs and debugfs (real guests only). */
  run?: ProgramRunner;
  /** The node's part of a MANAGED cluster network (absent: ROOTLESS, setNetwork is refused). */
  network?: NodeNetwork;
  /** This node's address, where a live migration's channels listen (default 127.0.0.1). */
  host?: string;
}

/** The hypervisor as EC2 reports it: QEMU with KVM is "kvm", under TCG "qemu". */

/** How long a stopping guest has to shut itself down before it is destroyed (EC2 waits minutes; Force skips it). */
export const STOP_TIMEOUT_MS = 60_000;
/** A record torn down by StopInstances. */
export const STOPPED_REASON = "stopped";
/** A record torn down by TerminateInstances: its instance never runs again. */
const TERMINATED_REASON = "terminated";

/** How long a torn-down instance is still reported. */
export const TEARDOWN_KEPT_MS = 60 * 60 * 1000;

/** Thrown inside a staging whose instance was terminated meanwhile. */
class TerminatedWhileStaging extends Error {}

export function createNodeService(
  deps: NodeServiceDeps,
): NodeClient & { adopt(): Promise<void>; drain(): Promise<void> } {
  const d = { ...deps, run: deps.run ?? runProgram };
  const { db } = d.db;
  const staging = new Set<string>();
  /** Instances terminated while they stage: their staging stops at its next step and starts nothing. */
  const terminatedWhileStaging = new Set<string>();
  const inflight = new Set<Promise<void>>();
  const dirOf = (r: RunInstanceRequest) => join(d.instancesDir, r.accountId, r.instanceId);
  const record = (id: string) => db.select().from(ncInstances).where(eq(ncInstances.id, id)).get();
  const requestOf = (row: { request: string }) => JSON.parse(row.request) as RunInstanceRequest;

  /** pending → extant only (NODE_TRANSITIONS): a record torn down meanwhile stays so. */
  function markExtant(id: string): void {
    db.update(ncInstances)
      .set({ state: "extant" })
      .where(and(eq(ncInstances.id, id), inArray(ncInstances.state, statesBefore(NODE_TRANSITIONS, "extant"))))
      .run();
  }

  function teardown(id: string, reason: string): void {
    const row = record(id);
    if (!row) return;
    rmSync(dirOf(requestOf(row)), { recursive: true, force: true });
    db.update(ncInstances)
      .set({ state: "teardown", reason, endedAt: d.clock.now() })
      .where(eq(ncInstances.id, id))
      .run();
  }

  /** Torn-down records are reported for an hour (the cluster and the CLC learn why), then forgotten, so reports stay bounded. */
  function forgetEnded(): void {
    const cutoff = new Date(d.clock.now().getTime() - TEARDOWN_KEPT_MS);
    db.delete(ncInstances)
      .where(
        and(
          eq(ncInstances.state, "teardown"),
          or(lt(ncInstances.endedAt, cutoff), and(isNull(ncInstances.endedAt), lt(ncInstances.createdAt, cutoff))),
        ),
      )
      .run();
  }

  /** What a guest is started from (domain-spec.ts), with its card as the cluster planned it last. */
  const prepare = (r: RunInstanceRequest, ctx: CallContext, stillWanted?: () => void) =>
    domainSpecOf(d, r, { dir: dirOf(r), nic: () => nicNow(r.instanceId) ?? r.nic }, ctx, stillWanted);

  /**
   * Images, disks, key, then boot; any failure tears down and says why. A terminate
   * that arrives meanwhile wins: each step checks for it, and a guest that started
   * (or half started) in the meantime is destroyed, so a terminated instance never
   * runs on.
   */
  async function stage(r: RunInstanceRequest, ctx: CallContext): Promise<void> {
    const id = r.instanceId;
    staging.add(id);
    const stillWanted = () => {
      if (terminatedWhileStaging.has(id)) throw new TerminatedWhileStaging();
    };
    try {
      const spec = await prepare(r, ctx, stillWanted);
      const started = await d.hypervisor.start(spec);
      stillWanted();
      // Volumes mapped at launch are hot-plugged at once, so the guest is reported running only with them.
      for (const v of r.volumes ?? []) {
        const disk = volumeDisk(v.target, { volumeId: v.volumeId, device: v.device, dir: dirOf(r) });
        await d.hypervisor.attachDisk(id, disk);
        stillWanted();
      }
      const nic = spec.nics[0]!;
      if (nic.mode === "user" && d.hypervisor.capabilities().portForwarding) {
        // Forwards the cluster changed while the guest was starting are applied now.
        const latest = nicNow(id);
        if (latest?.mode === "user" && !sameForwards(latest.forwards ?? [], nic.forwards ?? []))
          await applyForwards(id, latest.forwards ?? [], ctx);
        else logForwards(id, started.forwards ?? [], ctx);
      }
      markExtant(id);
    } catch (e) {
      // Whatever a half-done or overtaken start left running goes (destroy is idempotent).
      await d.hypervisor
        .destroy(id)
        .catch((err: Error) =>
          d.log.warn(
            { requestId: ctx.requestId, instanceId: id, err: err.message },
            "nc: could not destroy a guest that must not run",
          ),
        );
      if (e instanceof TerminatedWhileStaging || terminatedWhileStaging.has(id)) {
        d.log.info({ requestId: ctx.requestId, instanceId: id }, "nc: instance terminated while it was starting");
        rmSync(dirOf(r), { recursive: true, force: true }); // terminate already recorded it; only files may be left
      } else {
        d.log.warn(
          { requestId: ctx.requestId, instanceId: id, err: (e as Error).message },
          "nc: instance failed to start",
        );
        teardown(id, `failed to start: ${(e as Error).message}`);
      }
    } finally {
      staging.delete(id);
      terminatedWhileStaging.delete(id);
    }
  }

  /** What the node reports of a record (lifecycle/instance.ts); a guest found gone or crashed is torn down on the way. */
  async function view(row: typeof ncInstances.$inferSelect): Promise<NodeInstance> {
    const base = { instanceId: row.id, launchTime: row.createdAt.toISOString() };
    const asks = row.state !== "teardown" && !staging.has(row.id);
    const dom = asks ? await d.hypervisor.get(row.id) : undefined;
    const state = reportedState(row.state, staging.has(row.id), asks ? dom?.state : undefined);
    const volumes = (dom?.disks ?? []).flatMap((x) => (x.volumeId ? [{ volumeId: x.volumeId, device: x.device }] : []));
    if (state !== "Teardown") return { ...base, state, ...(volumes.length ? { volumes } : {}) };
    if (row.state === "teardown") return { ...base, state, reason: row.reason };
    const reason = dom ? (dom.reason ?? "the guest crashed") : "the instance is no longer running on this node";
    if (dom) await d.hypervisor.destroy(row.id);
    teardown(row.id, reason);
    return { ...base, state, reason };
  }

  const migration = nodeMigration({
    db: d.db,
    hypervisor: d.hypervisor,
    clock: d.clock,
    log: d.log,
    host: d.host ?? "127.0.0.1",
    dirOf,
    requestOf,
    prepare: (r, ctx) => prepare(r, ctx),
    describeResource: () => describeResource(),
    teardown,
    markExtant,
    staging,
  });

  // Volumes attach to the instance's directory (an NBD attachment's key lives there).
  const volumes = nodeVolumes({
    hypervisor: d.hypervisor,
    instanceDir: (id) => {
      const row = record(id);
      return row && dirOf(requestOf(row));
    },
  });

  /** The card the cluster last planned for an instance (its forwards change after launch). */
  function nicNow(id: string): NicSpec | undefined {
    const row = record(id);
    return row ? requestOf(row).nic : undefined;
  }

  const forwards = nodeForwards({ hypervisor: d.hypervisor, log: d.log });
  const { apply: applyForwards, logInForce: logForwards } = forwards;
  const describeResource = () => nodeResource(d, active());

  function active() {
    return db.select().from(ncInstances).where(ne(ncInstances.state, "teardown")).all().map(requestOf);
  }

  // Methods never use `this`: the RPC server calls them detached from the object.
  return domainErrorsOf({
    describeResource,

    async runInstance(r, ctx) {
      const existing = record(r.instanceId);
      // An EBS-backed instance starts here again after it stopped (or after a start here failed or was cut
      // short): its old record goes. A terminated one never runs again; otherwise a retried request: idempotent.
      if (existing?.state === "teardown" && existing.reason !== TERMINATED_REASON && r.rootVolume)
        db.delete(ncInstances).where(eq(ncInstances.id, r.instanceId)).run();
      else if (existing) return view(existing);
      const res = await describeResource();
      if (
        r.vmType.memoryMb > res.memorySizeAvailable ||
        r.vmType.cpus > res.numberOfCoresAvailable ||
        r.vmType.diskGb > res.diskSizeAvailable
      ) {
        throw new InsufficientCapacityError(
          `node cannot fit ${r.vmType.name}: ${res.memorySizeAvailable} MB, ${res.numberOfCoresAvailable} cores, ${res.diskSizeAvailable} GB free`,
        );
      }
      db.insert(ncInstances)
        .values({ id: r.instanceId, request: JSON.stringify(r), state: "pending", createdAt: d.clock.now() })
        .run();
      staging.add(r.instanceId);
      const work = stage(r, ctx).catch((e) =>
        d.log.error({ requestId: ctx.requestId, instanceId: r.instanceId, err: e }, "nc: staging failed"),
      );
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
      return { instanceId: r.instanceId, state: "Pending", launchTime: d.clock.now().toISOString() };
    },

    async describeInstances({ instanceIds }) {
      forgetEnded();
      const rows = instanceIds?.length
        ? db.select().from(ncInstances).where(inArray(ncInstances.id, instanceIds)).all()
        : db.select().from(ncInstances).all();
      const seen = d.network
        ? await d.network.learned().catch(() => new Map<string, string>())
        : new Map<string, string>();
      return {
        instances: await Promise.all(
          rows.map(async (r) => ({ ...(await view(r)), ...(seen.has(r.id) ? { privateIp: seen.get(r.id) } : {}) })),
        ),
      };
    },

    async terminateInstance({ instanceId }) {
      const row = record(instanceId);
      if (!row) return null;
      if (staging.has(instanceId)) terminatedWhileStaging.add(instanceId);
      await d.hypervisor.destroy(instanceId);
      if (row.state !== "teardown") teardown(instanceId, TERMINATED_REASON);
      return {
        instanceId,
        state: "Teardown",
        reason: record(instanceId)?.reason,
        launchTime: row.createdAt.toISOString(),
      };
    },

    async stopInstance({ instanceId, force, timeoutMs }, ctx) {
      const row = record(instanceId);
      if (!row) return null;
      if (staging.has(instanceId)) terminatedWhileStaging.add(instanceId);
      if (row.state !== "teardown") {
        if (force) await d.hypervisor.destroy(instanceId);
        else
          await d.hypervisor.stop(instanceId, { timeoutMs: timeoutMs ?? STOP_TIMEOUT_MS }).catch((e: unknown) => {
            if (!(e instanceof HypervisorError && e.kind === "not-found")) throw e;
          });
        teardown(instanceId, STOPPED_REASON);
        d.log.info({ requestId: ctx.requestId, instanceId, force: !!force }, "nc: instance stopped");
      }
      return {
        instanceId,
        state: "Teardown",
        reason: record(instanceId)?.reason,
        launchTime: row.createdAt.toISOString(),
      };
    },

    async setForwards({ instanceId, forwards }, ctx) {
      const row = record(instanceId);
      if (!row) throw new NotFoundError("instance", instanceId);
      const req = requestOf(row);
      if (req.nic.mode !== "user") {
        if (forwards.length)
          throw new InvalidParameterError(
            "forwards",
            `instance ${instanceId} is on a bridge: its ports are reached directly`,
          );
        return { failed: [] };
      }
      db.update(ncInstances)
        .set({ request: JSON.stringify({ ...req, nic: { ...req.nic, forwards } }) })
        .where(eq(ncInstances.id, instanceId))
        .run();
      // A guest still starting takes them as it starts; one gone has none; Xen's card sits on a bridge.
      if (row.state === "teardown" || staging.has(instanceId) || !d.hypervisor.capabilities().portForwarding)
        return { failed: [] };
      try {
        return { failed: (await applyForwards(instanceId, forwards, ctx)).failed };
      } catch (e) {
        if (e instanceof HypervisorError && e.kind === "not-found") return { failed: [] }; // gone meanwhile: the next report says so
        throw e;
      }
    },

    async setNetwork({ view, node }, ctx) {
      if (!d.network) throw new IncorrectStateError("this node's VNET_MODE is ROOTLESS: it has no host network to set");
      await d.network.set(view, node, ctx);
      return { applied: true as const };
    },

    ...volumes,
    ...migration,

    ...guestControls({
      hypervisor: d.hypervisor,
      log: d.log,
      known: (id) => !!record(id),
      active: () => active().length,
    }),

    /** Waits for stagings under way (before the database closes at shutdown). */
    async drain() {
      await Promise.all([...inflight]);
    },

    /**
     * After a restart: stagings that were cut short are torn down; running domains are kept;
     * a domain whose record was torn down (the copy of a migrated guest, a destroy cut short) goes.
     */
    async adopt() {
      for (const row of db.select().from(ncInstances).where(eq(ncInstances.state, "pending")).all()) {
        const dom = await d.hypervisor.get(row.id);
        if (!dom) teardown(row.id, "staging was interrupted by a node controller restart");
        // A guest arriving by migration still waits for the CC's word (completeIncoming).
        else if (dom.incoming) staging.add(row.id);
        else markExtant(row.id);
      }
      for (const row of db.select().from(ncInstances).where(eq(ncInstances.state, "teardown")).all()) {
        if (await d.hypervisor.get(row.id))
          await d.hypervisor
            .destroy(row.id)
            .catch((e: Error) =>
              d.log.warn({ instanceId: row.id, err: e.message }, "nc: could not destroy a torn-down instance's domain"),
            );
      }
      // A change recorded just before a restart may not have reached its guest.
      if (!d.hypervisor.capabilities().portForwarding) return;
      for (const row of db.select().from(ncInstances).where(eq(ncInstances.state, "extant")).all()) {
        const nic = requestOf(row).nic;
        const dom = nic.mode === "user" ? await d.hypervisor.get(row.id) : undefined;
        if (dom?.state !== "running" || nic.mode !== "user" || sameForwards(dom.forwards ?? [], nic.forwards ?? []))
          continue;
        await applyForwards(row.id, nic.forwards ?? [], { requestId: `nc-adopt-${row.id}` }).catch((e: Error) =>
          d.log.warn({ instanceId: row.id, err: e.message }, "nc: could not restore the guest's forwards"),
        );
      }
    },
  });
}
