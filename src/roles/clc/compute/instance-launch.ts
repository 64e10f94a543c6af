/**
 * RunInstances: the request checked (image, type, key, groups, user data, zone), its
 * instances recorded, then placed by the zone's cluster; a client token makes it idempotent.
 */
import { createHash } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { InsufficientCapacityError, InvalidParameterError, UnsupportedError } from "../../../common/errors";
import type { CallContext } from "../../../rpc/types";
import type { ClusterRunRequest, PlacedInstance } from "../../cc/client";
import { instances } from "../schema";
import type { RegisteredCluster } from "./zones";
import type { Caller, InstanceRecord, InstanceServiceDeps, RunInput } from "./instance-records";
import type { ImageView } from "./images";
import type { InstanceBoot } from "./instance-boot";
import { decodeMappings, deviceKey, mergeMappings, parseMappings, rootMapping } from "./block-devices";

const MAX_USER_DATA = 16 * 1024;

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

/**
 * The launch's block devices: the image's mappings with the request's laid over them, the
 * EBS volumes planned (an EBS-backed image's root among them, never left out), the
 * instance-store disks an EBS-backed instance gets, and what its own shutdown does.
 */
function launchDevices(o: InstanceServiceDeps, caller: Caller, image: ImageView, input: RunInput) {
  const ebs = image.rootDeviceType === "ebs";
  const rootName = image.rootDeviceName ?? "/dev/sda1";
  const launch = parseMappings(input.blockDeviceMappings);
  if (!ebs && launch.some((m) => m.ebs && rootMapping([m], rootName)))
    throw new InvalidParameterError(
      "BlockDeviceMapping",
      `${image.id} is an instance-store image: its root ${rootName} cannot be an EBS volume`,
      "block-device-mapping",
    );
  const merged = mergeMappings(decodeMappings(image.blockDeviceMappings), launch);
  if (ebs && !rootMapping(merged, rootName)?.ebs)
    throw new InvalidParameterError(
      "BlockDeviceMapping",
      `The root device ${rootName} of ${image.id} cannot be left out`,
      "block-device-mapping",
    );
  const planned = o.volumes.plan(caller, merged, ebs ? rootName : undefined);
  const behavior = input.shutdownBehavior ?? (ebs ? "stop" : "terminate");
  if (!ebs && behavior === "stop")
    throw new UnsupportedError(`${image.id} is an instance-store image: its instances cannot stop, only terminate`);
  const ephemeral = ebs
    ? merged.flatMap((m) =>
        m.virtualName ? [{ deviceName: deviceKey(m.deviceName), virtualName: m.virtualName }] : [],
      )
    : [];
  return { ebs, rootName, planned, behavior, ephemeral };
}

export function createLaunch(o: InstanceServiceDeps, cluster: (zone: string) => RegisteredCluster, boot: InstanceBoot) {
  const { db, sqlite } = o.db;
  return async function run(caller: Caller, input: RunInput, ctx: CallContext): Promise<InstanceRecord[]> {
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
    if (image.imageState !== "available")
      throw new InvalidParameterError("ImageId", `The image ${image.id} is ${image.imageState}, not available`);
    const devices = launchDevices(o, caller, image, input);
    if (image.type !== "machine")
      throw new InvalidParameterError("ImageId", `${input.imageId} is a ${image.type} image, not a machine image`);
    const kernelId = input.kernelId ?? image.kernelId ?? undefined;
    const ramdiskId = input.ramdiskId ?? image.ramdiskId ?? undefined;
    const kernel = kernelId ? o.images.attribute(caller, kernelId) : undefined;
    const ramdisk = ramdiskId ? o.images.attribute(caller, ramdiskId) : undefined;
    if (kernel && kernel.type !== "kernel") throw new InvalidParameterError("KernelId", `${kernelId} is not a kernel`);
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
    if (devices.planned.length) o.volumes.storageOf(zone); // volumes need the zone's SC: said before anything is recorded
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
          rootDeviceType: devices.ebs ? "ebs" : "instance-store",
          rootDeviceName: devices.rootName,
          ephemeralDevices: JSON.stringify(devices.ephemeral),
          disableApiTermination: input.disableApiTermination ?? false,
          shutdownBehavior: devices.behavior,
          transitionReason: "",
        };
        db.insert(instances).values(row).run();
        o.volumes.record(caller, id, zone, devices.planned);
        // A public address at launch, when the cloud has a pool (same transaction: all or none).
        if (input.addressing !== "private" && o.addresses.enabled()) publicIps.set(id, o.addresses.assignAtLaunch(id));
        return row;
      }),
    )();
    // With volumes: made, placed and started in the background (pending meanwhile), as EC2 answers at once.
    if (devices.planned.length) {
      boot.launch(rows, ctx);
      return rows;
    }
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
  };
}
