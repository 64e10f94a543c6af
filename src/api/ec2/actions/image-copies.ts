/** CreateImage, CopyImage and CopySnapshot: images and snapshots made from what a user already has. */
import { defineAction, type Ec2Context } from "../action";
import { Ec2Error } from "../errors";
import { p } from "../params";
import { blockDeviceMapping } from "./images";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });
const tagSpecification = p.list(
  p.struct({
    ResourceType: p.string({ required: true }),
    Tag: p.list(p.struct({ Key: p.string({ required: true }), Value: p.string() })),
  }),
  { maxItems: 10 },
);

/** Copies stay in this cloud's one region: another region is refused, not copied to nowhere. */
function sameRegion(ctx: Ec2Context, region: string): void {
  const here = ctx.services.regions.regions()[0]!.regionName;
  if (region !== here)
    throw new Ec2Error(
      "InvalidParameterValue",
      `This cloud has one region, ${here}: copies are made within it (SourceRegion ${region.slice(0, 64)})`,
    );
}

function tagsFor(
  ctx: Ec2Context,
  specs: ReadonlyArray<{ ResourceType: string; Tag?: Array<{ Key: string; Value?: string }> }>,
  kinds: string[],
) {
  const tags = specs.flatMap((s) => {
    if (!kinds.includes(s.ResourceType))
      throw new Ec2Error(
        "InvalidParameterValue",
        `Cannot tag resources of type '${s.ResourceType.slice(0, 64)}' here (${kinds.join(", ")})`,
      );
    return (s.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value ?? "" }));
  });
  ctx.services.tags.check(tags);
  return tags;
}

export const CreateImage = defineAction({
  name: "CreateImage",
  params: {
    InstanceId: p.string({ required: true }),
    Name: p.string({ required: true, maxLength: 128 }),
    Description: p.string({ maxLength: 255 }),
    NoReboot: p.boolean(),
    BlockDeviceMapping: blockDeviceMapping,
    TagSpecification: tagSpecification,
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const tags = tagsFor(ctx, input.TagSpecification ?? [], ["image"]);
    const { imageId } = await ctx.services.imageMaker.create(
      caller(ctx),
      {
        instanceId: input.InstanceId,
        name: input.Name,
        description: input.Description,
        noReboot: input.NoReboot,
        mappings: input.BlockDeviceMapping,
      },
      ctx,
    );
    if (tags.length) ctx.services.tags.create(ctx.principal.accountId, [imageId], tags);
    return { imageId };
  },
});

export const CopySnapshot = defineAction({
  name: "CopySnapshot",
  params: {
    SourceSnapshotId: p.string({ required: true }),
    SourceRegion: p.string({ required: true }),
    Description: p.string({ maxLength: 255 }),
    DestinationRegion: p.string(),
    Encrypted: p.boolean(),
    KmsKeyId: p.string(),
    PresignedUrl: p.string(),
    TagSpecification: tagSpecification,
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    sameRegion(ctx, input.SourceRegion);
    if (input.DestinationRegion !== undefined) sameRegion(ctx, input.DestinationRegion);
    if (input.Encrypted || input.KmsKeyId !== undefined)
      throw new Ec2Error("UnsupportedOperation", "Encrypted snapshots are not supported here");
    const tags = tagsFor(ctx, input.TagSpecification ?? [], ["snapshot"]);
    const s = await ctx.services.snapshots.copy(
      caller(ctx),
      { sourceSnapshotId: input.SourceSnapshotId, description: input.Description },
      ctx,
    );
    if (tags.length) ctx.services.tags.create(ctx.principal.accountId, [s.id], tags);
    return { snapshotId: s.id };
  },
});

export const CopyImage = defineAction({
  name: "CopyImage",
  params: {
    SourceImageId: p.string({ required: true }),
    SourceRegion: p.string({ required: true }),
    Name: p.string({ required: true, maxLength: 128 }),
    Description: p.string({ maxLength: 255 }),
    ClientToken: p.string({ maxLength: 64 }),
    Encrypted: p.boolean(),
    KmsKeyId: p.string(),
    CopyImageTags: p.boolean(),
    TagSpecification: tagSpecification,
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    sameRegion(ctx, input.SourceRegion);
    if (input.Encrypted || input.KmsKeyId !== undefined)
      throw new Ec2Error("UnsupportedOperation", "Encrypted images are not supported here");
    const tags = tagsFor(ctx, input.TagSpecification ?? [], ["image"]);
    const c = caller(ctx);
    const img = await ctx.services.images.copy(
      c,
      { sourceImageId: input.SourceImageId, name: input.Name, description: input.Description },
      async (snapshotId) =>
        (
          await ctx.services.snapshots.copy(
            c,
            { sourceSnapshotId: snapshotId, description: `Copied for CopyImage from ${input.SourceImageId}` },
            ctx,
          )
        ).id,
    );
    const copied = input.CopyImageTags
      ? Object.entries(ctx.services.tags.of([input.SourceImageId]).get(input.SourceImageId) ?? {}).map(
          ([key, value]) => ({ key, value }),
        )
      : [];
    if (tags.length || copied.length) ctx.services.tags.create(ctx.principal.accountId, [img.id], [...copied, ...tags]);
    return { imageId: img.id };
  },
});

/** An import task is named for the snapshot it makes ("import-snap-…"): nothing else to keep. */
const taskId = (snapshotId: string) => `import-${snapshotId}`;

export const ImportSnapshot = defineAction({
  name: "ImportSnapshot",
  params: {
    Description: p.string({ maxLength: 255 }),
    DiskContainer: p.struct({
      Description: p.string({ maxLength: 255 }),
      Format: p.string(),
      Url: p.string(),
      UserBucket: p.struct({ S3Bucket: p.string(), S3Key: p.string() }),
    }),
    ClientToken: p.string({ maxLength: 64 }),
    Encrypted: p.boolean(),
    KmsKeyId: p.string(),
    RoleName: p.string(),
    TagSpecification: tagSpecification,
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const d = input.DiskContainer;
    const format = (d?.Format ?? "RAW").toUpperCase();
    if (format !== "RAW")
      throw new Ec2Error(
        "InvalidParameterValue",
        `Only RAW disk images are imported here, not ${format.slice(0, 16)} (convert it with qemu-img)`,
      );
    if (!d?.UserBucket?.S3Bucket || !d.UserBucket.S3Key)
      throw new Ec2Error("MissingParameter", "The request must contain DiskContainer.UserBucket.S3Bucket and S3Key");
    if (input.Encrypted || input.KmsKeyId !== undefined)
      throw new Ec2Error("UnsupportedOperation", "Encrypted snapshots are not supported here");
    const tags = tagsFor(ctx, input.TagSpecification ?? [], ["import-snapshot-task", "snapshot"]);
    const s = await ctx.services.snapshots.importFrom(
      caller(ctx),
      { bucket: d.UserBucket.S3Bucket, key: d.UserBucket.S3Key, description: input.Description ?? d.Description },
      ctx,
    );
    if (tags.length) ctx.services.tags.create(ctx.principal.accountId, [s.id], tags);
    return {
      importTaskId: taskId(s.id),
      description: s.description,
      snapshotTaskDetail: {
        description: s.description,
        format,
        status: "active",
        progress: String(s.progress),
        userBucket: { s3Bucket: d.UserBucket.S3Bucket, s3Key: d.UserBucket.S3Key },
      },
    };
  },
});

export const DescribeImportSnapshotTasks = defineAction({
  name: "DescribeImportSnapshotTasks",
  params: {
    ImportTaskId: p.list(p.string()),
    Filters: p.list(p.struct({ Name: p.string(), Value: p.list(p.string()) })),
    MaxResults: p.integer({ min: 1, max: 500 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const ids = (input.ImportTaskId ?? []).map((t) => {
      if (!/^import-snap-[0-9a-f]{8,17}$/.test(t))
        throw new Ec2Error("InvalidConversionTaskId.Malformed", `'${t.slice(0, 64)}' is not an import task id`);
      return t.slice("import-".length);
    });
    const rows = (
      await ctx.services.snapshots.describe(caller(ctx), { ids, owners: ["self"], restorableBy: [] }, ctx)
    ).filter((s) => s.volumeId === "vol-ffffffff");
    return {
      importSnapshotTaskSet: rows.map((s) => ({
        importTaskId: taskId(s.id),
        description: s.description,
        snapshotTaskDetail: {
          description: s.description,
          format: "RAW",
          diskImageSize: s.sizeGiB * 1024 ** 3,
          snapshotId: s.id,
          progress: s.state === "pending" ? String(s.progress) : undefined,
          status: s.state === "completed" ? "completed" : s.state === "error" ? "deleted" : "active",
          statusMessage: s.state === "error" ? "the disk image could not be read" : undefined,
        },
      })),
    };
  },
});
