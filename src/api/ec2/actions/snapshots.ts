/** EBS snapshots on the wire: Create/Delete/Describe, and createVolumePermission. */
import { Ec2Error } from "../errors";
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import type { SnapshotRecord } from "../../../roles/clc/compute/snapshots";
import { grantChanges, paged, tagSet } from "./common";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });

const item = (s: SnapshotRecord, tags: Record<string, string> | undefined) => ({
  snapshotId: s.id,
  volumeId: s.volumeId,
  status: s.state,
  startTime: s.startedAt,
  progress: `${s.progress}%`,
  ownerId: s.accountId,
  volumeSize: s.sizeGiB,
  description: s.description,
  encrypted: false,
  storageTier: "standard",
  tagSet: tagSet(tags),
});

export const CreateSnapshot = defineAction({
  name: "CreateSnapshot",
  params: {
    VolumeId: p.string({ required: true }),
    Description: p.string({ maxLength: 255 }),
    OutpostArn: p.string(),
    TagSpecification: p.list(
      p.struct({
        ResourceType: p.string({ required: true }),
        Tag: p.list(p.struct({ Key: p.string({ required: true }), Value: p.string() })),
      }),
      { maxItems: 10 },
    ),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const tags = (input.TagSpecification ?? []).flatMap((s) => {
      if (s.ResourceType !== "snapshot")
        throw new Ec2Error(
          "InvalidParameterValue",
          `CreateSnapshot cannot tag resources of type '${s.ResourceType.slice(0, 64)}' (snapshot)`,
        );
      return (s.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value ?? "" }));
    });
    ctx.services.tags.check(tags);
    const s = await ctx.services.snapshots.create(
      caller(ctx),
      { volumeId: input.VolumeId, description: input.Description },
      ctx,
    );
    if (tags.length) ctx.services.tags.create(ctx.principal.accountId, [s.id], tags);
    return item(s, Object.fromEntries(tags.map((t) => [t.key, t.value])));
  },
});

export const DeleteSnapshot = defineAction({
  name: "DeleteSnapshot",
  params: { SnapshotId: p.string({ required: true }), DryRun: p.boolean() },
  async handler(input, ctx) {
    await ctx.services.snapshots.delete(caller(ctx), input.SnapshotId, ctx);
    ctx.services.tags.forget(input.SnapshotId);
    return { return: true };
  },
});

export const DescribeSnapshots = defineAction({
  name: "DescribeSnapshots",
  params: {
    SnapshotId: p.list(p.string()),
    Owner: p.list(p.string()),
    RestorableBy: p.list(p.string()),
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const rows = await ctx.services.snapshots.describe(
      caller(ctx),
      { ids: input.SnapshotId ?? [], owners: input.Owner ?? [], restorableBy: input.RestorableBy ?? [] },
      ctx,
    );
    const tags = ctx.services.tags.of(rows.map((r) => r.id));
    const filtered = applyFilters(
      rows,
      input.Filter,
      {
        "snapshot-id": (s) => s.id,
        "volume-id": (s) => s.volumeId,
        status: (s) => s.state,
        progress: (s) => `${s.progress}%`,
        "owner-id": (s) => s.accountId,
        description: (s) => s.description,
        "volume-size": (s) => String(s.sizeGiB),
        "start-time": (s) => s.startedAt.toISOString(),
        encrypted: () => "false",
        "storage-tier": () => "standard",
      },
      (s) => tags.get(s.id) ?? {},
    );
    const { page, nextToken } = paged(filtered, input);
    return { snapshotSet: page.map((s) => item(s, tags.get(s.id))), nextToken };
  },
});

export const DescribeSnapshotAttribute = defineAction({
  name: "DescribeSnapshotAttribute",
  params: {
    SnapshotId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: ["createVolumePermission", "productCodes"] }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const { snapshot, grantees } = ctx.services.snapshots.permissions(caller(ctx), input.SnapshotId);
    if (input.Attribute === "productCodes") return { snapshotId: snapshot.id, productCodes: [] };
    return {
      snapshotId: snapshot.id,
      createVolumePermission: grantees.map((g) => (g === "all" ? { group: "all" } : { userId: g })),
    };
  },
});

const permissionList = p.list(p.struct({ Group: p.string({ enum: ["all"] }), UserId: p.string() }));

export const ModifySnapshotAttribute = defineAction({
  name: "ModifySnapshotAttribute",
  params: {
    SnapshotId: p.string({ required: true }),
    Attribute: p.string({ enum: ["createVolumePermission", "productCodes"] }),
    OperationType: p.string({ enum: ["add", "remove"] }),
    UserId: p.list(p.string()),
    UserGroup: p.list(p.string({ enum: ["all"] })),
    CreateVolumePermission: p.struct({ Add: permissionList, Remove: permissionList }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    if (input.Attribute === "productCodes")
      throw new Ec2Error("InvalidParameterValue", "Snapshots carry no product codes here");
    const { add, remove } = grantChanges(input.CreateVolumePermission, input, true);
    if (!add.length && !remove.length)
      throw new Ec2Error(
        "MissingParameter",
        "Specify CreateVolumePermission.Add/Remove, or UserId/UserGroup with OperationType",
      );
    ctx.services.snapshots.modifyPermissions(caller(ctx), input.SnapshotId, add, remove);
    return { return: true };
  },
});

export const ResetSnapshotAttribute = defineAction({
  name: "ResetSnapshotAttribute",
  params: {
    SnapshotId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: ["createVolumePermission"] }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    ctx.services.snapshots.resetPermissions(caller(ctx), input.SnapshotId);
    return { return: true };
  },
});
