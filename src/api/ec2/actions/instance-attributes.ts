/** DescribeInstanceAttribute, ModifyInstanceAttribute, ResetInstanceAttribute: one attribute of one instance at a time. */
import { defineAction, type Ec2Context } from "../action";
import { Ec2Error } from "../errors";
import { p } from "../params";
import type { InstanceAttributeChange } from "../../../roles/clc/compute/instance-attributes";

const caller = (ctx: Ec2Context) => ({ accountId: ctx.principal.accountId, isAdmin: ctx.principal.isAdmin });
const value = (v: string | null | undefined) => (v ? { value: v } : {});

const ATTRIBUTES = [
  "userData",
  "instanceType",
  "kernel",
  "ramdisk",
  "groupSet",
  "rootDeviceName",
  "blockDeviceMapping",
  "disableApiTermination",
  "instanceInitiatedShutdownBehavior",
  "sourceDestCheck",
] as const;

export const DescribeInstanceAttribute = defineAction({
  name: "DescribeInstanceAttribute",
  params: {
    InstanceId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: [...ATTRIBUTES] }),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const [r] = await ctx.services.instances.describe(caller(ctx), [input.InstanceId], ctx);
    const out: Record<string, unknown> = { instanceId: r!.id };
    switch (input.Attribute as (typeof ATTRIBUTES)[number]) {
      case "userData":
        out.userData = value(r!.userData);
        break;
      case "instanceType":
        out.instanceType = value(r!.instanceType);
        break;
      case "kernel":
        out.kernel = value(r!.kernelId);
        break;
      case "ramdisk":
        out.ramdisk = value(r!.ramdiskId);
        break;
      case "groupSet":
        out.groupSet = ctx.services.instances.groupsOf(r!).map((g) => ({ groupId: g.id, groupName: g.name }));
        break;
      case "rootDeviceName":
        out.rootDeviceName = value(r!.rootDeviceName);
        break;
      case "blockDeviceMapping":
        out.blockDeviceMapping = (ctx.services.volumes.attachedTo([r!.id]).get(r!.id) ?? []).map((v) => ({
          deviceName: `/dev/${v.device}`,
          ebs: {
            volumeId: v.id,
            status: v.attachState,
            attachTime: v.attachedAt ?? undefined,
            deleteOnTermination: v.deleteOnTermination,
          },
        }));
        break;
      case "disableApiTermination":
        out.disableApiTermination = { value: r!.disableApiTermination };
        break;
      case "instanceInitiatedShutdownBehavior":
        out.instanceInitiatedShutdownBehavior = value(r!.shutdownBehavior);
        break;
      case "sourceDestCheck":
        out.sourceDestCheck = { value: true };
        break;
    }
    return out;
  },
});

const boolValue = p.struct({ Value: p.boolean() });
const stringValue = p.struct({ Value: p.string() });

export const ModifyInstanceAttribute = defineAction({
  name: "ModifyInstanceAttribute",
  params: {
    InstanceId: p.string({ required: true }),
    Attribute: p.string({ enum: [...ATTRIBUTES] }),
    Value: p.string({ maxLength: 32 * 1024 }),
    InstanceType: stringValue,
    UserData: p.struct({ Value: p.string({ maxLength: 32 * 1024 }) }),
    Kernel: stringValue,
    Ramdisk: stringValue,
    DisableApiTermination: boolValue,
    InstanceInitiatedShutdownBehavior: stringValue,
    SourceDestCheck: boolValue,
    GroupId: p.list(p.string()),
    BlockDeviceMapping: p.list(
      p.struct({
        DeviceName: p.string({ required: true }),
        Ebs: p.struct({ DeleteOnTermination: p.boolean(), VolumeId: p.string() }),
        NoDevice: p.string(),
        VirtualName: p.string(),
      }),
    ),
    EbsOptimized: boolValue,
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const changes: InstanceAttributeChange[] = [];
    const v = input.Value;
    const bool = (s: string) => {
      if (s !== "true" && s !== "false") throw new Ec2Error("InvalidParameterValue", `Value must be true or false`);
      return s === "true";
    };
    // The attribute named with Attribute=…&Value=… (the older form) or by its own parameter.
    if (input.Attribute !== undefined) {
      if (v === undefined) throw new Ec2Error("MissingParameter", "The request must contain the parameter Value");
      const a = input.Attribute as (typeof ATTRIBUTES)[number];
      if (a === "rootDeviceName" || a === "blockDeviceMapping" || a === "groupSet")
        throw new Ec2Error(
          "InvalidParameterCombination",
          `The attribute ${a} cannot be changed with Attribute and Value`,
        );
      if (a === "disableApiTermination" || a === "sourceDestCheck") changes.push({ attribute: a, value: bool(v) });
      else changes.push({ attribute: a, value: v });
    }
    if (input.InstanceType?.Value !== undefined)
      changes.push({ attribute: "instanceType", value: input.InstanceType.Value });
    // Base64 of the user data, as RunInstances' UserData (the SDKs encode the blob they are given).
    if (input.UserData?.Value !== undefined) changes.push({ attribute: "userData", value: input.UserData.Value });
    if (input.Kernel?.Value !== undefined) changes.push({ attribute: "kernel", value: input.Kernel.Value });
    if (input.Ramdisk?.Value !== undefined) changes.push({ attribute: "ramdisk", value: input.Ramdisk.Value });
    if (input.DisableApiTermination?.Value !== undefined)
      changes.push({ attribute: "disableApiTermination", value: input.DisableApiTermination.Value });
    if (input.InstanceInitiatedShutdownBehavior?.Value !== undefined)
      changes.push({
        attribute: "instanceInitiatedShutdownBehavior",
        value: input.InstanceInitiatedShutdownBehavior.Value,
      });
    if (input.SourceDestCheck?.Value !== undefined)
      changes.push({ attribute: "sourceDestCheck", value: input.SourceDestCheck.Value });
    if (input.GroupId?.length) changes.push({ attribute: "groupSet", value: input.GroupId });
    if (input.EbsOptimized?.Value !== undefined)
      throw new Ec2Error("UnsupportedOperation", "EBS optimization is not an attribute of instances here");
    if (input.BlockDeviceMapping?.length) {
      const value = input.BlockDeviceMapping.map((m) => {
        if (m.Ebs?.DeleteOnTermination === undefined || m.NoDevice !== undefined || m.VirtualName !== undefined)
          throw new Ec2Error(
            "InvalidParameterValue",
            "Only Ebs.DeleteOnTermination of an attached volume can be changed on a running instance's mapping",
          );
        return { deviceName: m.DeviceName, deleteOnTermination: m.Ebs.DeleteOnTermination };
      });
      changes.push({ attribute: "blockDeviceMapping", value });
    }
    if (changes.length !== 1)
      throw new Ec2Error(
        changes.length ? "InvalidParameterCombination" : "MissingParameter",
        "Exactly one attribute may be changed by one ModifyInstanceAttribute request",
      );
    ctx.services.instances.attributes.modify(caller(ctx), input.InstanceId, changes[0]!);
    return { return: true };
  },
});

export const ResetInstanceAttribute = defineAction({
  name: "ResetInstanceAttribute",
  params: {
    InstanceId: p.string({ required: true }),
    Attribute: p.string({ required: true, enum: ["kernel", "ramdisk", "sourceDestCheck"] }),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    ctx.services.instances.attributes.reset(
      caller(ctx),
      input.InstanceId,
      input.Attribute as "kernel" | "ramdisk" | "sourceDestCheck",
    );
    return { return: true };
  },
});
