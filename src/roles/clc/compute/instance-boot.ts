/**
 * Starting an instance whose disks include EBS volumes — a launch with volume mappings, or
 * StartInstances of a stopped EBS-backed instance — goes in steps, in the background of the
 * request that asked for it (the instance shows `pending` meanwhile, as on EC2): its
 * volumes are made by the zone's SC; its cluster places it (`hold`: its private address
 * leased, or its own kept one); the SC exports each volume to the node chosen (its file on
 * a node that shares the SC's host, NBD or iSCSI otherwise); the cluster starts it with
 * them. A step that fails ends a new launch terminated (its DeleteOnTermination volumes
 * go) and sends a started-again instance back to `stopped`, its volumes kept.
 */
import { and, eq } from "drizzle-orm";
import type { CallContext } from "../../../rpc/types";
import type { ClusterRunRequest } from "../../cc/client";
import { instances } from "../schema";
import type { InstanceRecord, InstanceServiceDeps } from "./instance-records";
import type { InstanceReports } from "./instance-reports";
import type { InstanceVolumes } from "./instance-volumes";
import type { RegisteredCluster } from "./zones";

const internal = (e: unknown) => `Server.InternalError: ${(e as Error).message}`;

export function createInstanceBoot(
  o: InstanceServiceDeps & { volumes: InstanceVolumes },
  reports: InstanceReports,
  cluster: (zone: string) => RegisteredCluster,
) {
  const { db } = o.db;
  const groupsOf = (r: InstanceRecord) => JSON.parse(r.groups) as Array<{ id: string; name: string }>;

  /** Where an image's bundle is, for its node (kernels and ramdisks of EBS-backed instances too). */
  function imageRef(id: string | null) {
    const location = id ? o.images.locationOf(id) : "";
    if (!id || !location) return undefined;
    return { id, bucket: location.split("/")[0]!, manifestKey: location.slice(location.indexOf("/") + 1) };
  }

  /** The cluster's request for an instance, from its record (a start after a stop asks again with what it launched with). */
  function requestOf(r: InstanceRecord): ClusterRunRequest {
    const groups = groupsOf(r);
    const key = r.keyName
      ? o.keyPairs.describe({ accountId: r.accountId }, []).find((k) => k.name === r.keyName)
      : undefined;
    const ephemeral = (JSON.parse(r.ephemeralDevices) as Array<{ deviceName: string }>).map((e) => e.deviceName);
    return {
      instanceId: r.id,
      reservationId: r.reservationId,
      accountId: r.accountId,
      ...(r.rootDeviceType === "ebs" ? {} : { image: imageRef(r.imageId) }),
      kernel: imageRef(r.kernelId),
      ramdisk: imageRef(r.ramdiskId),
      vmType: o.vmTypes.get(r.instanceType),
      publicKey: key?.publicKey,
      userData: r.userData ?? undefined,
      launchIndex: r.launchIndex,
      groupNames: groups.map((g) => g.name),
      groupIds: groups.map((g) => g.id),
      publicIp: o.addresses.publicIpOf(r.id),
      ...(ephemeral.length ? { ephemeral } : {}),
    };
  }

  /** Volumes made, placed, exported, started; throws when a step fails (the caller decides what the instances become). */
  async function boot(rows: readonly InstanceRecord[], ctx: CallContext): Promise<void> {
    const c = cluster(rows[0]!.zone);
    for (const r of rows) await o.volumes.make(r.id, ctx);
    await Promise.all(rows.map((r) => o.volumes.ready(r.id, ctx)));
    const groups = groupsOf(rows[0]!);
    const { placed } = await c.client.runInstances(
      {
        accountId: rows[0]!.accountId,
        groupName: groups[0]!.name,
        instances: rows.map(requestOf),
        groups: o.groups.rulesOf(groups.map((g) => g.id)),
        hold: true,
      },
      ctx,
    );
    const requests: ClusterRunRequest[] = [];
    for (const p of placed) {
      const r = rows.find((x) => x.id === p.instanceId)!;
      db.update(instances)
        .set({ privateIp: p.privateIp, mac: p.mac, hypervisor: p.hypervisor ?? null })
        .where(eq(instances.id, r.id))
        .run();
      const ebsRoot = r.rootDeviceType === "ebs" ? (r.rootDeviceName ?? undefined) : undefined;
      const { root, others } = await o.volumes.exportTo(r.id, ebsRoot, !!p.local, ctx);
      requests.push({ ...requestOf(r), ...(root ? { rootVolume: root } : {}), volumes: others });
    }
    await c.client.startPlaced({ instances: requests }, ctx);
    for (const r of rows) o.volumes.attached(r.id);
    o.log?.info(
      { requestId: ctx.requestId, instances: rows.map((r) => r.id) },
      "clc: instances started with their volumes",
    );
  }

  /** Runs `work` after the request answered (it catches its own failures); what it leaves unfinished a restart reconciles. */
  function background(work: () => Promise<void>): void {
    void work().catch((e: Error) =>
      o.log?.error({ err: e.message }, "clc: an instance's start in the background failed"),
    );
  }

  return {
    /** A new launch with volumes: started in the background; a failure terminates it with why. */
    launch(rows: readonly InstanceRecord[], ctx: CallContext): void {
      background(async () => {
        try {
          await boot(rows, ctx);
        } catch (e) {
          o.log?.warn(
            { requestId: ctx.requestId, instances: rows.map((r) => r.id), err: (e as Error).message },
            "clc: launch with volumes failed; terminated",
          );
          await reports
            .end(
              rows[0]!.zone,
              rows.map((r) => ({ id: r.id, reason: internal(e) })),
              ctx,
            )
            .catch(() => undefined);
        }
      });
    },

    /** StartInstances: a stopped EBS-backed instance placed again; a failure stops it again with why. */
    start(r: InstanceRecord, ctx: CallContext): void {
      background(async () => {
        try {
          await boot([r], ctx);
        } catch (e) {
          o.log?.warn(
            { requestId: ctx.requestId, instanceId: r.id, err: (e as Error).message },
            "clc: start failed; the instance is stopped again",
          );
          const moved = db
            .update(instances)
            .set({ state: "stopping", stateReason: internal(e) })
            .where(and(eq(instances.id, r.id), eq(instances.state, "pending")))
            .run().changes;
          if (moved) {
            o.intents.record("stop", r.id, r.zone);
            await reports.stopAt(r.zone, [r.id], ctx, true).catch(() => undefined);
          }
        }
      });
    },
  };
}

export type InstanceBoot = ReturnType<typeof createInstanceBoot>;
