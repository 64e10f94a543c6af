import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import { STATE_CODES, type InstanceRecord, type InstanceState } from "../../../roles/clc/compute/instances";
import { paged, tagSet, verboseScope } from "./common";
import { blockDeviceMapping } from "./images";
import type { VolumeRecord } from "../../../roles/clc/compute/volumes";
import { Ec2Error } from "../errors";
import { lazyList } from "../xml";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });
const state = (s: InstanceState) => ({ code: STATE_CODES[s], name: s });

/** What runs an instance: Xen (and the fake, which mimics it) paravirtualizes; QEMU, with KVM or not, runs full guests. */
function virtualization(hypervisor: string | null) {
  const h = hypervisor ?? "xen";
  return { hypervisor: h, virtualizationType: h === "kvm" || h === "qemu" ? "hvm" : "paravirtual" };
}

/** An instance's attached EBS volumes, as EC2 lists them in its block device mappings. */
const ebsMappings = (vols: readonly VolumeRecord[]) =>
  vols.map((v) => ({
    deviceName: `/dev/${v.device}`,
    ebs: {
      volumeId: v.id,
      status: v.attachState,
      attachTime: v.attachedAt ?? undefined,
      deleteOnTermination: v.deleteOnTermination,
    },
  }));

function instanceItem(
  ctx: Ec2Context,
  r: InstanceRecord,
  publicIp: string | undefined,
  tags?: Record<string, string>,
  vols: readonly VolumeRecord[] = [],
) {
  const groups = ctx.services.instances.groupsOf(r);
  return {
    instanceId: r.id,
    imageId: r.imageId,
    instanceState: state(r.state),
    privateDnsName: r.privateIp,
    dnsName: publicIp ?? r.privateIp,
    ipAddress: publicIp,
    reason: r.transitionReason || r.stateReason,
    keyName: r.keyName ?? undefined,
    amiLaunchIndex: r.launchIndex,
    productCodes: [],
    instanceType: r.instanceType,
    launchTime: r.launchTime,
    placement: { availabilityZone: r.zone, tenancy: "default" },
    kernelId: r.kernelId ?? undefined,
    ramdiskId: r.ramdiskId ?? undefined,
    monitoring: { state: "disabled" },
    privateIpAddress: r.privateIp,
    groupSet: groups.map((g) => ({ groupId: g.id, groupName: g.name })),
    vpcId: ctx.services.vpcs.vpc(r.accountId).vpcId,
    subnetId: ctx.services.vpcs.subnetOfZone(r.accountId, r.zone),
    architecture: "x86_64",
    rootDeviceType: r.rootDeviceType,
    rootDeviceName: r.rootDeviceName ?? undefined,
    ...virtualization(r.hypervisor),
    clientToken: r.clientToken ?? undefined,
    stateReason: r.stateReason ? { code: r.stateReason.split(":")[0], message: r.stateReason } : undefined,
    tagSet: tagSet(tags),
    blockDeviceMapping: ebsMappings(vols),
  };
}

/** Instances grouped into their reservations, in launch order. */
function reservations(ctx: Ec2Context, rows: InstanceRecord[], tags: Map<string, Record<string, string>>) {
  const byId = new Map<string, InstanceRecord[]>();
  for (const r of rows) {
    const list = byId.get(r.reservationId) ?? [];
    if (!list.length) byId.set(r.reservationId, list);
    list.push(r);
  }
  const publicIps = ctx.services.addresses.publicIpsOf(rows.map((r) => r.id));
  const volumes = ctx.services.volumes.attachedTo(rows.map((r) => r.id));
  return [...byId.values()].map((rs) => ({
    reservationId: rs[0]!.reservationId,
    ownerId: rs[0]!.accountId,
    groupSet: ctx.services.instances.groupsOf(rs[0]!).map((g) => ({ groupId: g.id, groupName: g.name })),
    instancesSet: lazyList(rs, (r) => {
      const ip = publicIps.get(r.id);
      const t = tags.get(r.id);
      const vols = volumes.get(r.id) ?? [];
      // Everything else about an instance is fixed once it is placed.
      const version = [
        r.state,
        r.stateReason,
        r.transitionReason,
        r.instanceType,
        r.privateIp,
        r.hypervisor ?? "",
        ip ?? "",
        t ? JSON.stringify(t) : "",
        vols.map((v) => `${v.id}:${v.device}:${v.attachState}:${v.deleteOnTermination}`).join(","),
      ].join("|");
      return ctx.fragments.get(`instance:${r.id}`, version, () => instanceItem(ctx, r, ip, t, vols));
    }),
  }));
}

type RunInput = {
  SubnetId?: string;
  SecurityGroupId?: string[];
  SecurityGroup?: string[];
  NetworkInterface?: Array<{
    DeviceIndex?: number;
    SubnetId?: string;
    SecurityGroupId?: string[];
    AssociatePublicIpAddress?: boolean;
    PrivateIpAddress?: string;
    NetworkInterfaceId?: string;
  }>;
};

/** The instance's card from NetworkInterface.1, checked against what this cloud has: one new card in a default subnet. */
function networkInterface(input: RunInput) {
  const list = input.NetworkInterface ?? [];
  if (!list.length) return undefined;
  const [n] = list;
  if (list.length > 1 || (n!.DeviceIndex ?? 0) !== 0)
    throw new Ec2Error("InvalidParameterValue", "An instance has one network interface here, at device index 0");
  if (n!.NetworkInterfaceId !== undefined)
    throw new Ec2Error("InvalidParameterValue", "Attaching an existing network interface is not supported");
  if (n!.PrivateIpAddress !== undefined)
    throw new Ec2Error(
      "InvalidParameterValue",
      "Choosing the private address is not supported: the cluster assigns it",
    );
  if (input.SubnetId !== undefined || input.SecurityGroupId?.length || input.SecurityGroup?.length) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request",
    );
  }
  return n!;
}

/**
 * The tags RunInstances puts on its instances and on the EBS volumes they get from their
 * mappings (an instance-store instance without volume mappings has none: they tag nothing).
 */
function instanceTags(specs: ReadonlyArray<{ ResourceType: string; Tag?: Array<{ Key: string; Value?: string }> }>) {
  const out = {
    instance: [] as Array<{ key: string; value: string }>,
    volume: [] as Array<{ key: string; value: string }>,
  };
  for (const s of specs) {
    if (s.ResourceType !== "instance" && s.ResourceType !== "volume")
      throw new Ec2Error(
        "InvalidParameterValue",
        `RunInstances cannot tag resources of type '${s.ResourceType.slice(0, 64)}' (instance, volume)`,
      );
    out[s.ResourceType].push(...(s.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value ?? "" })));
  }
  return out;
}

export const RunInstances = defineAction({
  name: "RunInstances",
  params: {
    ImageId: p.string({ required: true }),
    MinCount: p.integer({ required: true, min: 1, max: 1000 }),
    MaxCount: p.integer({ required: true, min: 1, max: 1000 }),
    KeyName: p.string(),
    SecurityGroup: p.list(p.string()),
    SecurityGroupId: p.list(p.string()),
    UserData: p.string({ maxLength: 32 * 1024 }),
    InstanceType: p.string(),
    KernelId: p.string(),
    RamdiskId: p.string(),
    AddressingType: p.string({ enum: ["public", "private"] }),
    Placement: p.struct({ AvailabilityZone: p.string(), GroupName: p.string(), Tenancy: p.string() }),
    ClientToken: p.string({ maxLength: 64 }),
    Monitoring: p.struct({ Enabled: p.boolean() }),
    DisableApiTermination: p.boolean(),
    InstanceInitiatedShutdownBehavior: p.string(),
    EbsOptimized: p.boolean(),
    BlockDeviceMapping: blockDeviceMapping,
    SubnetId: p.string(),
    DryRun: p.boolean(),
    // The one card an instance has, as VPC-era tools describe it (Ansible's ec2_instance always does).
    NetworkInterface: p.list(
      p.struct({
        DeviceIndex: p.integer(),
        SubnetId: p.string(),
        SecurityGroupId: p.list(p.string()),
        AssociatePublicIpAddress: p.boolean(),
        DeleteOnTermination: p.boolean(),
        Description: p.string(),
        PrivateIpAddress: p.string(),
        NetworkInterfaceId: p.string(),
      }),
      { maxItems: 8 },
    ),
    TagSpecification: p.list(
      p.struct({
        ResourceType: p.string({ required: true }),
        Tag: p.list(p.struct({ Key: p.string({ required: true }), Value: p.string() })),
      }),
      { maxItems: 10 },
    ),
  },
  async handler(input, ctx) {
    const behavior = input.InstanceInitiatedShutdownBehavior;
    if (behavior !== undefined && behavior !== "stop" && behavior !== "terminate")
      throw new Ec2Error(
        "InvalidParameterValue",
        `InstanceInitiatedShutdownBehavior must be stop or terminate, not '${behavior.slice(0, 32)}'`,
      );
    const nic = networkInterface(input);
    // A default subnet is its zone (the only subnets there are).
    let zone = input.Placement?.AvailabilityZone;
    const subnetId = nic?.SubnetId ?? input.SubnetId;
    if (subnetId !== undefined) {
      const subnetZone = ctx.services.vpcs.zoneOfSubnet(ctx.principal.accountId, subnetId);
      if (zone !== undefined && zone !== subnetZone)
        throw new Ec2Error("InvalidParameterCombination", `Subnet ${subnetId} is in ${subnetZone}, not ${zone}`);
      zone = subnetZone;
    }
    const publicAddress =
      nic?.AssociatePublicIpAddress === undefined
        ? input.AddressingType
        : nic.AssociatePublicIpAddress
          ? "public"
          : "private";
    const tags = instanceTags(input.TagSpecification ?? []);
    ctx.services.tags.check([...tags.instance, ...tags.volume]);
    const rows = await ctx.services.instances.run(
      caller(ctx),
      {
        imageId: input.ImageId,
        minCount: input.MinCount,
        maxCount: input.MaxCount,
        instanceType: input.InstanceType,
        keyName: input.KeyName,
        groupNames: input.SecurityGroup ?? [],
        groupIds: nic?.SecurityGroupId ?? input.SecurityGroupId ?? [],
        userData: input.UserData,
        kernelId: input.KernelId,
        ramdiskId: input.RamdiskId,
        zone,
        clientToken: input.ClientToken,
        addressing: publicAddress as "public" | "private" | undefined,
        blockDeviceMappings: input.BlockDeviceMapping,
        disableApiTermination: input.DisableApiTermination,
        shutdownBehavior: behavior,
      },
      ctx,
    );
    if (tags.instance.length)
      ctx.services.tags.create(
        ctx.principal.accountId,
        rows.map((r) => r.id),
        tags.instance,
      );
    const launched = ctx.services.volumes.attachedTo(rows.map((r) => r.id));
    const volumeIds = [...launched.values()].flat().map((v) => v.id);
    if (tags.volume.length && volumeIds.length)
      ctx.services.tags.create(ctx.principal.accountId, volumeIds, tags.volume);
    const [reservation] = reservations(ctx, rows, ctx.services.tags.of(rows.map((r) => r.id)));
    return reservation!;
  },
});

export const DescribeInstances = defineAction({
  name: "DescribeInstances",
  params: {
    InstanceId: p.list(p.string()),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const { scope, names: ids } = verboseScope(ctx, input.InstanceId);
    const rows = await ctx.services.instances.describe({ ...caller(ctx), all: scope.all }, ids, ctx);
    const tags = ctx.services.tags.of(rows.map((r) => r.id));
    const volumesOf = ctx.services.volumes.attachedTo(rows.map((r) => r.id));
    const filtered = applyFilters(
      rows,
      input.Filter,
      {
        "instance-id": (r) => r.id,
        "instance-state-name": (r) => r.state,
        "instance-state-code": (r) => String(STATE_CODES[r.state]),
        "image-id": (r) => r.imageId,
        "instance-type": (r) => r.instanceType,
        "key-name": (r) => r.keyName ?? undefined,
        "availability-zone": (r) => r.zone,
        "private-ip-address": (r) => r.privateIp,
        "reservation-id": (r) => r.reservationId,
        "owner-id": (r) => r.accountId,
        "kernel-id": (r) => r.kernelId ?? undefined,
        "ramdisk-id": (r) => r.ramdiskId ?? undefined,
        "group-name": (r) => ctx.services.instances.groupsOf(r).map((g) => g.name),
        "group-id": (r) => ctx.services.instances.groupsOf(r).map((g) => g.id),
        "client-token": (r) => r.clientToken ?? undefined,
        "ip-address": (r) => ctx.services.addresses.publicIpOf(r.id),
        "vpc-id": (r) => ctx.services.vpcs.vpc(r.accountId).vpcId,
        "subnet-id": (r) => ctx.services.vpcs.subnetOfZone(r.accountId, r.zone),
        "root-device-type": (r) => r.rootDeviceType,
        "root-device-name": (r) => r.rootDeviceName ?? undefined,
        "block-device-mapping.volume-id": (r) => (volumesOf.get(r.id) ?? []).map((v) => v.id),
        "block-device-mapping.device-name": (r) => (volumesOf.get(r.id) ?? []).map((v) => `/dev/${v.device}`),
      },
      (r) => tags.get(r.id) ?? {},
    );
    const { page, nextToken } = paged(filtered, input);
    return { reservationSet: reservations(ctx, page, tags), nextToken };
  },
});

export const TerminateInstances = defineAction({
  name: "TerminateInstances",
  params: { InstanceId: p.list(p.string(), { required: true }), DryRun: p.boolean() },
  async handler(input, ctx) {
    return stateChanges(await ctx.services.instances.terminate(caller(ctx), input.InstanceId, ctx));
  },
});

export const RebootInstances = defineAction({
  name: "RebootInstances",
  params: { InstanceId: p.list(p.string(), { required: true }), DryRun: p.boolean() },
  async handler(input, ctx) {
    await ctx.services.instances.reboot(caller(ctx), input.InstanceId, ctx);
    return { return: true };
  },
});

const stateChanges = (done: ReadonlyArray<{ id: string; previous: InstanceState; current: InstanceState }>) => ({
  instancesSet: done.map((d) => ({
    instanceId: d.id,
    currentState: state(d.current),
    previousState: state(d.previous),
  })),
});

export const StopInstances = defineAction({
  name: "StopInstances",
  params: {
    InstanceId: p.list(p.string(), { required: true }),
    Force: p.boolean(),
    Hibernate: p.boolean(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    if (input.Hibernate) throw new Ec2Error("UnsupportedHibernationConfiguration", "Hibernation is not supported here");
    return stateChanges(await ctx.services.instances.stop(caller(ctx), input.InstanceId, !!input.Force, ctx));
  },
});

export const StartInstances = defineAction({
  name: "StartInstances",
  params: { InstanceId: p.list(p.string(), { required: true }), AdditionalInfo: p.string(), DryRun: p.boolean() },
  async handler(input, ctx) {
    return stateChanges(await ctx.services.instances.start(caller(ctx), input.InstanceId, ctx));
  },
});

export const GetConsoleOutput = defineAction({
  name: "GetConsoleOutput",
  params: { InstanceId: p.string({ required: true }), Latest: p.boolean(), DryRun: p.boolean() },
  async handler(input, ctx) {
    const r = await ctx.services.instances.consoleOutput(caller(ctx), input.InstanceId, ctx);
    return { instanceId: input.InstanceId, timestamp: r.timestamp, output: r.output };
  },
});
