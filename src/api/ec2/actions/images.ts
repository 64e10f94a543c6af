import { Ec2Error } from "../errors";
import { defineAction, type Ec2Context } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import type { ImageView } from "../../../roles/clc/compute/images";
import { decodeMappings, type BlockDeviceMapping } from "../../../roles/clc/compute/block-devices";
import { grantChanges, tagSet, verboseScope } from "./common";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });

export const blockDeviceMapping = p.list(
  p.struct({
    DeviceName: p.string(),
    VirtualName: p.string(),
    NoDevice: p.string(),
    Ebs: p.struct({
      SnapshotId: p.string(),
      VolumeSize: p.integer(),
      DeleteOnTermination: p.boolean(),
      VolumeType: p.string(),
      Iops: p.integer(),
      Encrypted: p.boolean(),
      KmsKeyId: p.string(),
      Throughput: p.integer(),
      OutpostArn: p.string(),
    }),
  }),
);

export const RegisterImage = defineAction({
  name: "RegisterImage",
  params: {
    ImageLocation: p.string(),
    Name: p.string({ maxLength: 128 }),
    Description: p.string({ maxLength: 255 }),
    Architecture: p.string({ enum: ["i386", "x86_64"] }),
    KernelId: p.string(),
    RamdiskId: p.string(),
    RootDeviceName: p.string(),
    BlockDeviceMapping: blockDeviceMapping,
    VirtualizationType: p.string(),
    SriovNetSupport: p.string(),
    EnaSupport: p.boolean(),
    BootMode: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    // With a root device and no bundle: an EBS-backed image, its root a snapshot.
    if (input.ImageLocation === undefined) {
      if (input.RootDeviceName === undefined)
        throw new Ec2Error(
          "MissingParameter",
          "The request must contain ImageLocation (a bundle) or RootDeviceName and a BlockDeviceMapping (EBS)",
        );
      if (input.Name === undefined)
        throw new Ec2Error("MissingParameter", "The request must contain the parameter Name");
      const virt = input.VirtualizationType;
      if (virt !== undefined && virt !== "hvm" && virt !== "paravirtual")
        throw new Ec2Error("InvalidParameterValue", `VirtualizationType must be hvm or paravirtual`);
      const r = ctx.services.images.registerEbs(caller(ctx), {
        name: input.Name,
        description: input.Description,
        architecture: input.Architecture,
        rootDeviceName: input.RootDeviceName,
        mappings: ctx.services.images.parseMappings(input.BlockDeviceMapping),
        virtualizationType: virt as "hvm" | "paravirtual" | undefined,
        bootMode: input.BootMode,
        kernelId: input.KernelId,
        ramdiskId: input.RamdiskId,
      });
      return { imageId: r.id };
    }
    if ((input.BlockDeviceMapping ?? []).some((b) => b.Ebs !== undefined))
      throw new Ec2Error(
        "InvalidParameterCombination",
        "An instance-store bundle (ImageLocation) cannot have EBS mappings; register an EBS-backed image without ImageLocation",
      );
    const r = await ctx.services.images.register(
      caller(ctx),
      {
        location: input.ImageLocation,
        name: input.Name,
        description: input.Description,
        architecture: input.Architecture,
        kernelId: input.KernelId,
        ramdiskId: input.RamdiskId,
      },
      ctx,
    );
    return { imageId: r.id };
  },
});

export const DeregisterImage = defineAction({
  name: "DeregisterImage",
  params: { ImageId: p.string({ required: true }), DryRun: p.boolean() },
  handler(input, ctx) {
    ctx.services.images.deregister(caller(ctx), input.ImageId);
    ctx.services.tags.forget(input.ImageId);
    return { return: true };
  },
});

/** Mappings as EC2 lists them (an image's, or what a launch used). */
export function mappingItems(list: readonly BlockDeviceMapping[]) {
  return list.map((m) => ({
    deviceName: m.deviceName,
    ...(m.virtualName ? { virtualName: m.virtualName } : {}),
    ...(m.noDevice ? { noDevice: "" } : {}),
    ...(m.ebs
      ? {
          ebs: {
            snapshotId: m.ebs.snapshotId,
            volumeSize: m.ebs.volumeSize,
            deleteOnTermination: m.ebs.deleteOnTermination,
            volumeType: m.ebs.volumeType,
            encrypted: false,
          },
        }
      : {}),
  }));
}

function imageItem(i: ImageView, tags?: Record<string, string>) {
  return {
    imageId: i.id,
    imageLocation: i.location || `${i.accountId}/${i.name}`,
    imageOwnerId: i.accountId,
    isPublic: i.isPublic,
    architecture: i.architecture,
    imageType: i.type,
    kernelId: i.kernelId ?? undefined,
    ramdiskId: i.ramdiskId ?? undefined,
    name: i.name,
    description: i.description || undefined,
    imageState: i.imageState === "available" ? i.state : i.imageState,
    rootDeviceType: i.rootDeviceType,
    rootDeviceName: i.rootDeviceName ?? undefined,
    virtualizationType: i.virtualizationType,
    bootMode: i.bootMode ?? undefined,
    hypervisor: "xen",
    creationDate: i.createdAt,
    blockDeviceMapping: mappingItems(decodeMappings(i.blockDeviceMappings)),
    productCodes: i.productCodes ? i.productCodes.split(",").map((c) => ({ productCode: c, type: "devpay" })) : [],
    tagSet: tagSet(tags),
  };
}

export const DescribeImages = defineAction({
  name: "DescribeImages",
  params: {
    ImageId: p.list(p.string()),
    Owner: p.list(p.string()),
    ExecutableBy: p.list(p.string()),
    Filter: filterList(),
    IncludeDeprecated: p.boolean(),
    IncludeDisabled: p.boolean(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    await ctx.services.imageMaker.refresh(ctx); // CreateImage's, pending until their snapshots complete
    const { scope, names: ids } = verboseScope(ctx, input.ImageId);
    const rows = ctx.services.images.describe(
      { ...caller(ctx), all: scope.all },
      { ids, owners: input.Owner, executableBy: input.ExecutableBy },
    );
    const tags = ctx.services.tags.of(rows.map((r) => r.id));
    const filtered = applyFilters(
      rows,
      input.Filter,
      {
        architecture: (i) => i.architecture,
        "image-id": (i) => i.id,
        "image-type": (i) => i.type,
        "is-public": (i) => String(i.isPublic),
        "kernel-id": (i) => i.kernelId ?? undefined,
        "ramdisk-id": (i) => i.ramdiskId ?? undefined,
        "manifest-location": (i) => i.location,
        name: (i) => i.name,
        description: (i) => i.description,
        "owner-id": (i) => i.accountId,
        state: (i) => i.state,
        "root-device-type": (i) => i.rootDeviceType,
        "root-device-name": (i) => i.rootDeviceName ?? undefined,
        "virtualization-type": (i) => i.virtualizationType,
        "block-device-mapping.snapshot-id": (i) =>
          decodeMappings(i.blockDeviceMappings).flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : [])),
        "product-code": (i) => i.productCodes.split(",").filter(Boolean),
      },
      (i) => tags.get(i.id) ?? {},
    );
    return { imagesSet: filtered.map((i) => imageItem(i, tags.get(i.id))) };
  },
});

const ATTRIBUTES = ["description", "kernel", "ramdisk", "launchPermission", "productCodes", "blockDeviceMapping"];

export const DescribeImageAttribute = defineAction({
  name: "DescribeImageAttribute",
  params: {
    ImageId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: ATTRIBUTES }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const images = ctx.services.images;
    const i =
      input.Attribute === "launchPermission"
        ? images.launchPermission(caller(ctx), input.ImageId)
        : images.attribute(caller(ctx), input.ImageId);
    const out: Record<string, unknown> = { imageId: i.id };
    switch (input.Attribute) {
      case "description":
        out.description = { value: i.description };
        break;
      case "kernel":
        out.kernel = i.kernelId ? { value: i.kernelId } : {};
        break;
      case "ramdisk":
        out.ramdisk = i.ramdiskId ? { value: i.ramdiskId } : {};
        break;
      case "productCodes":
        out.productCodes = i.productCodes
          ? i.productCodes.split(",").map((c) => ({ productCode: c, type: "devpay" }))
          : [];
        break;
      case "blockDeviceMapping":
        out.blockDeviceMapping = [];
        break;
      case "launchPermission":
        out.launchPermission = [
          ...(i.isPublic ? [{ group: "all" }] : []),
          ...i.launchPermissions.map((u) => ({ userId: u })),
        ];
        break;
    }
    return out;
  },
});

const permissionList = p.list(
  p.struct({
    Group: p.string({ enum: ["all"] }),
    UserId: p.string(),
    OrganizationArn: p.string(),
    OrganizationalUnitArn: p.string(),
  }),
);

export const ModifyImageAttribute = defineAction({
  name: "ModifyImageAttribute",
  params: {
    ImageId: p.string({ required: true }),
    Attribute: p.string(),
    OperationType: p.string({ enum: ["add", "remove"] }),
    UserId: p.list(p.string()),
    UserGroup: p.list(p.string({ enum: ["all"] })),
    ProductCode: p.list(p.string()),
    Value: p.string(),
    Description: p.struct({ Value: p.string() }),
    LaunchPermission: p.struct({ Add: permissionList, Remove: permissionList }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const images = ctx.services.images;
    if (input.Description?.Value !== undefined || input.Attribute === "description") {
      images.modifyDescription(caller(ctx), input.ImageId, input.Description?.Value ?? input.Value ?? "");
      return { return: true };
    }
    const { add, remove } = grantChanges(
      input.LaunchPermission,
      input,
      input.Attribute === "launchPermission" || input.OperationType !== undefined,
    );
    if (!add.length && !remove.length)
      throw new Ec2Error(
        "MissingParameter",
        "Specify LaunchPermission.Add/Remove, UserId/UserGroup with OperationType, or Description",
      );
    if ([...add, ...remove].some((g) => g === "" || (g !== "all" && !/^\d{12}$/.test(g))))
      throw new Ec2Error("InvalidParameterValue", "Launch permissions name the group 'all' or 12-digit account ids");
    images.modifyLaunchPermission(caller(ctx), input.ImageId, add, remove);
    return { return: true };
  },
});

export const ResetImageAttribute = defineAction({
  name: "ResetImageAttribute",
  params: {
    ImageId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: ["launchPermission"] }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    ctx.services.images.resetLaunchPermission(caller(ctx), input.ImageId);
    return { return: true };
  },
});

export const ConfirmProductInstance = defineAction({
  name: "ConfirmProductInstance",
  params: { ProductCode: p.string({ required: true }), InstanceId: p.string({ required: true }), DryRun: p.boolean() },
  handler(input, ctx) {
    const confirmed = ctx.services.instances.confirmProduct(input.InstanceId, input.ProductCode);
    return { return: confirmed !== undefined, ownerId: confirmed?.ownerId };
  },
});
