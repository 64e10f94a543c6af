/** EBS volumes on the wire: Create/Delete/Describe, Attach/Detach, DescribeVolumeStatus. */
import { Ec2Error } from "../errors";
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import type { VolumeRecord } from "../../../roles/clc/compute/volumes";
import { paged, tagSet, verboseScope } from "./common";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });

const attachment = (v: VolumeRecord) =>
  v.attachState && v.instanceId
    ? [
        {
          volumeId: v.id,
          instanceId: v.instanceId,
          device: `/dev/${v.device}`,
          status: v.attachState,
          attachTime: v.attachedAt ?? undefined,
          deleteOnTermination: v.deleteOnTermination,
        },
      ]
    : [];

const item = (v: VolumeRecord, tags: Record<string, string> | undefined) => ({
  volumeId: v.id,
  size: v.sizeGiB,
  snapshotId: v.snapshotId ?? "",
  availabilityZone: v.zone,
  status: v.state,
  createTime: v.createdAt,
  attachmentSet: attachment(v),
  volumeType: v.volumeType,
  encrypted: false,
  multiAttachEnabled: false,
  tagSet: tagSet(tags),
});

const tagSpecs = p.list(
  p.struct({
    ResourceType: p.string({ required: true }),
    Tag: p.list(p.struct({ Key: p.string({ required: true }), Value: p.string() })),
  }),
  { maxItems: 10 },
);

export const CreateVolume = defineAction({
  name: "CreateVolume",
  params: {
    Size: p.integer({ min: 1, max: 65536 }),
    SnapshotId: p.string(),
    AvailabilityZone: p.string({ required: true }),
    VolumeType: p.string(),
    Iops: p.integer(),
    Throughput: p.integer(),
    Encrypted: p.boolean(),
    KmsKeyId: p.string(),
    MultiAttachEnabled: p.boolean(),
    OutpostArn: p.string(),
    ClientToken: p.string(),
    TagSpecification: tagSpecs,
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    if (input.Encrypted)
      throw new Ec2Error("InvalidParameterValue", "Encrypted volumes are not supported: there is no KMS in this cloud");
    if (input.MultiAttachEnabled)
      throw new Ec2Error("InvalidParameterValue", "Multi-Attach is not supported: a volume attaches to one instance");
    const tags = (input.TagSpecification ?? []).flatMap((s) => {
      if (s.ResourceType !== "volume")
        throw new Ec2Error(
          "InvalidParameterValue",
          `CreateVolume cannot tag resources of type '${s.ResourceType.slice(0, 64)}' (volume)`,
        );
      return (s.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value ?? "" }));
    });
    ctx.services.tags.check(tags);
    const v = await ctx.services.volumes.create(
      caller(ctx),
      { sizeGiB: input.Size, zone: input.AvailabilityZone, volumeType: input.VolumeType, snapshotId: input.SnapshotId },
      ctx,
    );
    if (tags.length) ctx.services.tags.create(ctx.principal.accountId, [v.id], tags);
    const { attachmentSet: _a, ...rest } = item(v, Object.fromEntries(tags.map((t) => [t.key, t.value])));
    return rest;
  },
});

export const DeleteVolume = defineAction({
  name: "DeleteVolume",
  params: { VolumeId: p.string({ required: true }), DryRun: p.boolean() },
  async handler(input, ctx) {
    await ctx.services.volumes.delete(caller(ctx), input.VolumeId, ctx);
    return { return: true };
  },
});

export const DescribeVolumes = defineAction({
  name: "DescribeVolumes",
  params: {
    VolumeId: p.list(p.string()),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 500 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const { scope, names: ids } = verboseScope(ctx, input.VolumeId);
    const rows = await ctx.services.volumes.describe({ ...caller(ctx), all: scope.all }, ids, ctx);
    const tags = ctx.services.tags.of(rows.map((r) => r.id));
    const att = (f: (a: ReturnType<typeof attachment>[number]) => string | undefined) => (v: VolumeRecord) =>
      attachment(v)
        .map(f)
        .filter((x): x is string => x !== undefined);
    const filtered = applyFilters(
      rows,
      input.Filter,
      {
        "volume-id": (v) => v.id,
        status: (v) => v.state,
        size: (v) => String(v.sizeGiB),
        "availability-zone": (v) => v.zone,
        "volume-type": (v) => v.volumeType,
        "snapshot-id": (v) => v.snapshotId ?? "",
        "create-time": (v) => v.createdAt.toISOString(),
        encrypted: () => "false",
        "multi-attach-enabled": () => "false",
        "attachment.instance-id": att((a) => a.instanceId),
        "attachment.device": att((a) => a.device),
        "attachment.status": att((a) => a.status),
        "attachment.attach-time": att((a) => a.attachTime?.toISOString()),
        "attachment.delete-on-termination": att((a) => String(a.deleteOnTermination)),
      },
      (v) => tags.get(v.id) ?? {},
    );
    const { page, nextToken } = paged(filtered, input);
    return { volumeSet: page.map((v) => item(v, tags.get(v.id))), nextToken };
  },
});

export const AttachVolume = defineAction({
  name: "AttachVolume",
  params: {
    VolumeId: p.string({ required: true }),
    InstanceId: p.string({ required: true }),
    Device: p.string({ required: true }),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const v = await ctx.services.volumes.attach(
      caller(ctx),
      { volumeId: input.VolumeId, instanceId: input.InstanceId, device: input.Device },
      ctx,
    );
    return attachment(v)[0]!;
  },
});

export const DetachVolume = defineAction({
  name: "DetachVolume",
  params: {
    VolumeId: p.string({ required: true }),
    InstanceId: p.string(),
    Device: p.string(),
    Force: p.boolean(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const v = await ctx.services.volumes.detach(
      caller(ctx),
      { volumeId: input.VolumeId, instanceId: input.InstanceId, device: input.Device, force: input.Force },
      ctx,
    );
    return attachment(v)[0]!;
  },
});

export const DescribeVolumeStatus = defineAction({
  name: "DescribeVolumeStatus",
  params: {
    VolumeId: p.list(p.string()),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const { scope, names: ids } = verboseScope(ctx, input.VolumeId);
    const rows = (await ctx.services.volumes.describe({ ...caller(ctx), all: scope.all }, ids, ctx)).filter(
      (v) => v.state !== "deleted",
    );
    // A volume whose SC holds it whole is "ok"; one in error is "impaired" (I/O is checked by the guest, not here).
    const status = (v: VolumeRecord) =>
      v.state === "error" ? "impaired" : v.state === "creating" ? "insufficient-data" : "ok";
    const filtered = applyFilters(rows, input.Filter, {
      "volume-id": (v) => v.id,
      "availability-zone": (v) => v.zone,
      "volume-status.status": status,
      "volume-status.details-name": () => ["io-enabled"],
    });
    const { page, nextToken } = paged(filtered, input);
    return {
      volumeStatusSet: page.map((v) => ({
        volumeId: v.id,
        availabilityZone: v.zone,
        actionsSet: [],
        eventsSet: [],
        volumeStatus: {
          status: status(v),
          details: [{ name: "io-enabled", status: status(v) === "impaired" ? "failed" : "passed" }],
        },
      })),
      nextToken,
    };
  },
});
