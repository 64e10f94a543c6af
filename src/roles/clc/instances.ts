/**
 * Instances as the cloud records them: RunInstances validates (image, kernel/ramdisk,
 * key pair, groups, type, zone, count), reserves private addresses and records the
 * reservation in one transaction, then asks the zone's cluster to place and start it —
 * all or nothing. States follow the nodes' reports by one table (./instance-reports.ts),
 * taken by sync() in the background and at once for pending instances; silence never
 * ends an instance; terminated instances stay visible for 10 minutes, as in Eucalyptus.
 */
import { createHash } from "node:crypto";
import { and, eq, getTableColumns, inArray, isNull, or, gt, lt } from "drizzle-orm";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import {
  IncorrectStateError,
  InsufficientCapacityError,
  InvalidParameterError,
  NotFoundError,
} from "../../common/errors";
import type { CallContext } from "../../rpc/types";
import type { Logger } from "pino";
import type { ClusterInstance, ClusterRunRequest, PlacedInstance } from "../cc/client";
import type { ClcDatabase } from "./database";
import { addresses, instances } from "./schema";
import type { AddressService } from "./addresses";
import type { ImageService } from "./images";
import type { KeyPairService } from "./key-pairs";
import type { SecurityGroupService } from "./security-groups";
import type { VmTypeService } from "./vm-types";
import type { RegisteredCluster } from "./zones";
import { idIn, idIs, sameId } from "./id-match";
import { createInstanceReports } from "./instance-reports";
import type { Intents } from "./intents";

export type InstanceRecord = typeof instances.$inferSelect;
export type InstanceState = InstanceRecord["state"];
export { INSTANCE_STATE_CODES as STATE_CODES } from "../../lifecycle/instance";
/** Eucalyptus' SHUT_DOWN_TIME: how long terminated instances stay visible. */
export const TERMINATED_VISIBLE_MS = 10 * 60 * 1000;
const MAX_USER_DATA = 16 * 1024;

export interface Caller {
  accountId: string;
  isAdmin: boolean;
}

export interface RunInput {
  imageId: string;
  minCount: number;
  maxCount: number;
  instanceType?: string;
  keyName?: string;
  groupNames: string[];
  groupIds: string[];
  userData?: string;
  kernelId?: string;
  ramdiskId?: string;
  zone?: string;
  clientToken?: string;
  /** "private": no public address at launch (Eucalyptus' --addressing private). */
  addressing?: "public" | "private";
}

/** A RunInstances request's parameters, as one digest (keys sorted, the token itself left out). */
function requestDigest(input: RunInput): string {
  const { clientToken: _token, ...rest } = input;
  const canonical = JSON.stringify(
    Object.fromEntries(
      Object.entries(rest)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  );
  return createHash("sha256").update(canonical).digest("hex");
}

export function createInstanceService(o: {
  db: ClcDatabase;
  clock: Clock;
  ids: IdGenerator;
  clusters: () => readonly RegisteredCluster[];
  images: ImageService;
  keyPairs: KeyPairService;
  groups: SecurityGroupService;
  vmTypes: VmTypeService;
  addresses: AddressService;
  intents: Intents;
  log?: Logger;
  /** INSTANCE_REACHABILITY_SECONDS in ms: an instance unreported this long is impaired. */
  reachabilityMs: number;
  /** Told what the clusters reported of live instances and which ended (volumes let go of theirs). */
  reported?: (
    reports: ReadonlyMap<string, ClusterInstance | undefined>,
    ended: ReadonlySet<string>,
    ctx: CallContext,
  ) => Promise<void>;
}) {
  const { db, sqlite } = o.db;
  const reports = createInstanceReports(o);
  const { setState, refresh } = reports;
  const groupsOf = (r: InstanceRecord) => JSON.parse(r.groups) as Array<{ id: string; name: string }>;

  function cluster(zone: string): RegisteredCluster {
    const c = o.clusters().find((x) => x.name === zone);
    if (!c) throw new InvalidParameterError("Placement.AvailabilityZone", `Invalid availability zone: [${zone}]`);
    return c;
  }

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
    async run(caller: Caller, input: RunInput, ctx: CallContext): Promise<InstanceRecord[]> {
      const digest = input.clientToken ? requestDigest(input) : null;
      if (input.clientToken) {
        const prior = db
          .select()
          .from(instances)
          .where(and(eq(instances.accountId, caller.accountId), eq(instances.clientToken, input.clientToken)))
          .all();
        // The same token with other parameters is another request, which EC2 refuses rather than answering with the first.
        if (prior.some((p) => p.requestDigest !== null && p.requestDigest !== digest)) {
          throw new InvalidParameterError(
            "ClientToken",
            `The client token '${input.clientToken}' was used with other parameters`,
            "idempotency-mismatch",
          );
        }
        if (prior.length) return prior;
      }
      if (input.minCount < 1 || input.maxCount < input.minCount)
        throw new InvalidParameterError("MinCount", "MinCount must be at least 1 and no more than MaxCount");
      const image = o.images.attribute(caller, input.imageId);
      if (image.type !== "machine")
        throw new InvalidParameterError("ImageId", `${input.imageId} is a ${image.type} image, not a machine image`);
      const kernelId = input.kernelId ?? image.kernelId ?? undefined;
      const ramdiskId = input.ramdiskId ?? image.ramdiskId ?? undefined;
      const kernel = kernelId ? o.images.attribute(caller, kernelId) : undefined;
      const ramdisk = ramdiskId ? o.images.attribute(caller, ramdiskId) : undefined;
      if (kernel && kernel.type !== "kernel")
        throw new InvalidParameterError("KernelId", `${kernelId} is not a kernel`);
      if (ramdisk && ramdisk.type !== "ramdisk")
        throw new InvalidParameterError("RamdiskId", `${ramdiskId} is not a ramdisk`);
      const vmType = o.vmTypes.get(input.instanceType ?? "m1.small");
      const key = input.keyName ? o.keyPairs.describe({ accountId: caller.accountId }, [input.keyName])[0] : undefined;
      const wanted =
        input.groupNames.length || input.groupIds.length
          ? { names: input.groupNames, ids: input.groupIds }
          : { names: ["default"], ids: [] };
      const groups = [
        ...(wanted.names.length ? o.groups.describe({ accountId: caller.accountId }, wanted.names) : []),
        ...(wanted.ids.length ? o.groups.describe({ accountId: caller.accountId }, [], wanted.ids) : []),
      ].map((g) => ({ id: g.id, name: g.name }));
      if (input.userData !== undefined) {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.userData))
          throw new InvalidParameterError("UserData", "UserData must be base64-encoded");
        if (Buffer.from(input.userData, "base64").length > MAX_USER_DATA)
          throw new InvalidParameterError("UserData", `UserData is limited to ${MAX_USER_DATA} bytes`);
      }
      const zone = input.zone ?? o.clusters()[0]?.name;
      if (!zone)
        throw new InvalidParameterError(
          "Placement.AvailabilityZone",
          "There is no availability zone to run instances in",
        );
      const c = cluster(zone);
      // How many fit now decides between MinCount and MaxCount.
      const avail = (await c.client.describeResources({ vmTypes: [vmType] }, ctx)).resources[0]?.available ?? 0;
      if (avail < input.minCount) {
        throw new InsufficientCapacityError(
          `Not enough resources available: ${input.minCount} x ${vmType.name} requested, ${avail} available in ${zone}`,
        );
      }
      const count = Math.min(input.maxCount, avail);
      const reservationId = o.ids.resourceId("reservation");
      const now = o.clock.now();
      // Recorded first (a restart reconciles what the cluster never started); the cluster
      // leases the private addresses in the first group's network as it runs them.
      const publicIps = new Map<string, string>();
      const rows: InstanceRecord[] = sqlite.transaction(() =>
        Array.from({ length: count }, (_, launchIndex) => {
          const id = o.ids.resourceId("instance");
          const row: InstanceRecord = {
            id,
            reservationId,
            accountId: caller.accountId,
            imageId: image.id,
            kernelId: kernel?.id ?? null,
            ramdiskId: ramdisk?.id ?? null,
            instanceType: vmType.name,
            keyName: key?.name ?? null,
            groups: JSON.stringify(groups),
            userData: input.userData ?? null,
            state: "pending",
            stateReason: "",
            launchIndex,
            zone,
            privateIp: "",
            mac: "",
            clientToken: input.clientToken ?? null,
            requestDigest: digest,
            hypervisor: null,
            publicAddressing: input.addressing !== "private",
            launchTime: now,
            terminatedAt: null,
            unreportedSince: null,
          };
          db.insert(instances).values(row).run();
          // A public address at launch, when the cloud has a pool (same transaction: all or none).
          if (input.addressing !== "private" && o.addresses.enabled())
            publicIps.set(id, o.addresses.assignAtLaunch(id));
          return row;
        }),
      )();
      const ref = (i: { id: string; location: string }) => ({
        id: i.id,
        bucket: i.location.split("/")[0]!,
        manifestKey: i.location.slice(i.location.indexOf("/") + 1),
      });
      const requests: ClusterRunRequest[] = rows.map((r) => ({
        instanceId: r.id,
        reservationId,
        accountId: caller.accountId,
        image: ref(image),
        kernel: kernel && ref(kernel),
        ramdisk: ramdisk && ref(ramdisk),
        vmType,
        publicKey: key?.publicKey,
        userData: r.userData ?? undefined,
        launchIndex: r.launchIndex,
        groupNames: groups.map((g) => g.name),
        groupIds: groups.map((g) => g.id),
        publicIp: publicIps.get(r.id),
      }));
      let placed: PlacedInstance[];
      try {
        const rules = o.groups.rulesOf(groups.map((g) => g.id));
        placed = (
          await c.client.runInstances(
            { accountId: caller.accountId, groupName: groups[0]!.name, instances: requests, groups: rules },
            ctx,
          )
        ).placed;
      } catch (e) {
        // All or nothing: the reservation is forgotten as if it had never been.
        sqlite.transaction(() => {
          for (const r of rows) o.addresses.releaseFromInstance(r.id);
          db.delete(instances)
            .where(
              inArray(
                instances.id,
                rows.map((r) => r.id),
              ),
            )
            .run();
        })();
        throw e;
      }
      const addressOf = new Map(placed.map((p) => [p.instanceId, p]));
      sqlite.transaction(() => {
        for (const r of rows) {
          const p = addressOf.get(r.id);
          if (!p) continue;
          Object.assign(r, { privateIp: p.privateIp, mac: p.mac, hypervisor: p.hypervisor ?? null });
          db.update(instances)
            .set({ privateIp: p.privateIp, mac: p.mac, hypervisor: p.hypervisor ?? null })
            .where(eq(instances.id, r.id))
            .run();
        }
      })();
      return rows;
    },

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
          o.intents.record("terminate", r.id, r.zone);
        })();
        const done = await reports.terminateAt(r.zone, [r.id], ctx);
        out.push({ id: r.id, previous: r.state, current: done.has(r.id) ? "terminated" : "shutting-down" });
      }
      return out;
    },

    async reboot(caller: Caller, ids: readonly string[], ctx: CallContext): Promise<void> {
      for (const r of owned(caller, ids)) {
        if (r.state !== "running")
          throw new IncorrectStateError(`The instance '${r.id}' is not in a state from which it can be rebooted.`);
        await cluster(r.zone).client.rebootInstances({ instanceIds: [r.id] }, ctx);
      }
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
          .where(inArray(instances.state, ["pending", "running", "shutting-down"]))
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
