/**
 * EBS volumes through the EC2 API (the AWS SDK) on the in-process cloud: the SC makes real
 * sparse files; the fake hypervisor attaches them. States, filters, pagination, limits and
 * each refusal with EC2's code.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeVolumesCommand,
  DescribeVolumeStatusCommand,
  DetachVolumeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  DescribeInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, tempDir, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { until } from "../../support/until";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let imageId: string;
let bobsImage: string;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);
const ZONE = "cluster1";

/** The disks the fake hypervisor's domain has attached (its state file). */
const attachedDisks = (inst: string): Array<{ device: string; format?: string; path: string; volumeId?: string }> => {
  const f = join(t.dataDir, "nc", "fake", "domains", `${inst}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as { spec: { disks: [] } }).spec.disks : [];
};
const volume = async (c: TestUser, id: string) =>
  (await ec2(c).send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
async function available(c: TestUser, size = 1): Promise<string> {
  const id = (await ec2(c).send(new CreateVolumeCommand({ Size: size, AvailabilityZone: ZONE }))).VolumeId!;
  await until(async () => (await volume(c, id)).State === "available");
  return id;
}
async function running(c: TestUser): Promise<string> {
  const id = (
    await ec2(c).send(new RunInstancesCommand({ ImageId: c === bob ? bobsImage : imageId, MinCount: 1, MaxCount: 1 }))
  ).Instances![0]!.InstanceId!;
  await until(
    async () =>
      (await ec2(c).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!
        .Name === "running",
  );
  return id;
}

beforeAll(async () => {
  t = await startTestCloud({
    settings: { walrusMaxBuckets: 0, scMaxVolumeGb: 4, scMaxTotalGb: 12, scMaxVolumesPerUser: 4 },
  });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  const location = await uploadBundle(t, alice, imageFile("root.img", 100_000));
  imageId = (await ec2(alice).send(new RegisterImageCommand({ ImageLocation: location, Name: "root" }))).ImageId!;
  bobsImage = (
    await ec2(bob).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, bob, imageFile("root.img", 100_000)),
        Name: "root",
      }),
    )
  ).ImageId!;
});
afterAll(() => t.stop());

describe("volumes", () => {
  it("CreateVolume answers creating; the SC makes a sparse file and it becomes available; tags and filters", async () => {
    const made = await ec2(alice).send(
      new CreateVolumeCommand({
        Size: 2,
        AvailabilityZone: ZONE,
        VolumeType: "gp3",
        TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "Name", Value: "data" }] }],
      }),
    );
    expect(made).toMatchObject({
      Size: 2,
      AvailabilityZone: ZONE,
      State: "creating",
      VolumeType: "gp3",
      Encrypted: false,
    });
    expect(made.VolumeId).toMatch(/^vol-[0-9a-f]{8}$/);
    await until(async () => (await volume(alice, made.VolumeId!)).State === "available");
    const file = join(t.dataDir, "volumes", `${made.VolumeId}.img`);
    expect(statSync(file).size).toBe(2 * 1024 ** 3);
    expect(statSync(file).blocks).toBeLessThan(64); // sparse
    const byTag = await ec2(alice).send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: "tag:Name", Values: ["data"] },
          { Name: "size", Values: ["2"] },
        ],
      }),
    );
    expect(byTag.Volumes!.map((v) => v.VolumeId)).toEqual([made.VolumeId]);
    expect((await ec2(bob).send(new DescribeVolumesCommand({}))).Volumes).toEqual([]); // one tenant never sees another's
    await expect(ec2(bob).send(new DescribeVolumesCommand({ VolumeIds: [made.VolumeId!] }))).rejects.toMatchObject({
      name: "InvalidVolume.NotFound",
    });
    const status = await ec2(alice).send(new DescribeVolumeStatusCommand({ VolumeIds: [made.VolumeId!] }));
    expect(status.VolumeStatuses![0]!.VolumeStatus!.Status).toBe("ok");
  });

  it("bad sizes, zones, types and the limits answer EC2's codes", async () => {
    await expect(ec2(alice).send(new CreateVolumeCommand({ Size: 0, AvailabilityZone: ZONE }))).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    await expect(ec2(alice).send(new CreateVolumeCommand({ Size: 5, AvailabilityZone: ZONE }))).rejects.toMatchObject({
      name: "InvalidParameterValue",
      message: expect.stringContaining("at most 4 GiB"),
    });
    await expect(
      ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "nowhere-1a" })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue", message: expect.stringContaining("nowhere-1a") });
    await expectEc2Error(
      ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE, VolumeType: "floppy" as never })),
      "InvalidParameterValue",
    );
    await expect(ec2(alice).send(new CreateVolumeCommand({ AvailabilityZone: ZONE }))).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    await expectEc2Error(
      ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE, Encrypted: true })),
      "InvalidParameterValue",
    );
    // 12 GiB in all: alice holds 2; bob's 4 + 4 leave 2, so a third 4 does not fit.
    await available(bob, 4);
    await available(bob, 4);
    await expect(ec2(bob).send(new CreateVolumeCommand({ Size: 4, AvailabilityZone: ZONE }))).rejects.toMatchObject({
      name: "InsufficientVolumeCapacity",
    });
    for (const v of (await ec2(bob).send(new DescribeVolumesCommand({}))).Volumes!)
      await ec2(bob).send(new DeleteVolumeCommand({ VolumeId: v.VolumeId }));
    // Four volumes per user (a deleted one no longer counts).
    for (let i = 0; i < 3; i++) await ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE }));
    await expect(ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE }))).rejects.toMatchObject({
      name: "VolumeLimitExceeded",
    });
    for (const v of (await ec2(alice).send(new DescribeVolumesCommand({ Filters: [{ Name: "size", Values: ["1"] }] })))
      .Volumes!) {
      await until(async () => (await volume(alice, v.VolumeId!)).State === "available");
      await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: v.VolumeId }));
    }
  });

  it("attach to a running instance: in-use and attached, the disk on the guest with the volume's id; detach makes it available", async () => {
    const vol = await available(alice);
    const inst = await running(alice);
    const att = await ec2(alice).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf" }));
    expect(att).toMatchObject({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf", State: "attaching" });
    const v = await volume(alice, vol);
    expect(v.State).toBe("in-use");
    expect(v.Attachments).toMatchObject([{ InstanceId: inst, Device: "/dev/sdf", State: "attached" }]);
    const described = (await ec2(alice).send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!
      .Instances![0]!;
    expect(described.BlockDeviceMappings).toMatchObject([
      { DeviceName: "/dev/sdf", Ebs: { VolumeId: vol, Status: "attached", DeleteOnTermination: false } },
    ]);
    const filtered = await ec2(alice).send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: "attachment.instance-id", Values: [inst] },
          { Name: "attachment.status", Values: ["attached"] },
        ],
      }),
    );
    expect(filtered.Volumes!.map((x) => x.VolumeId)).toEqual([vol]);
    expect(attachedDisks(inst).find((d) => d.volumeId === vol)).toMatchObject({
      device: "sdf",
      format: "raw",
      path: join(t.dataDir, "volumes", `${vol}.img`),
    });

    await expect(ec2(alice).send(new DeleteVolumeCommand({ VolumeId: vol }))).rejects.toMatchObject({
      name: "VolumeInUse",
    });
    const other = await available(alice);
    await expect(
      ec2(alice).send(new AttachVolumeCommand({ VolumeId: other, InstanceId: inst, Device: "/dev/sdf" })),
    ).rejects.toMatchObject({ name: "InvalidParameterValue", message: expect.stringContaining("already in use") });
    await expectEc2Error(
      ec2(alice).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdg" })),
      "VolumeInUse",
    );
    await expectEc2Error(
      ec2(alice).send(new AttachVolumeCommand({ VolumeId: other, InstanceId: inst, Device: "/dev/sda1" })),
      "InvalidParameterValue",
    );

    const det = await ec2(alice).send(new DetachVolumeCommand({ VolumeId: vol }));
    expect(det.State).toBe("detaching");
    expect((await volume(alice, vol)).State).toBe("available");
    expect(attachedDisks(inst).some((d) => d.volumeId === vol)).toBe(false);
    await expect(ec2(alice).send(new DetachVolumeCommand({ VolumeId: vol }))).rejects.toMatchObject({
      name: "IncorrectState",
    });
    await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: other }));
    await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: vol }));
    await until(async () => (await volume(alice, vol)).State === "deleted");
    expect(existsSync(join(t.dataDir, "volumes", `${vol}.img`))).toBe(false);
  });

  it("no attaching to another tenant's instance or a terminated one; terminate lets a volume go", async () => {
    const vol = await available(alice);
    const bobs = await running(bob);
    await expectEc2Error(
      ec2(alice).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: bobs, Device: "/dev/sdf" })),
      "InvalidInstanceID.NotFound",
    );
    await expectEc2Error(
      ec2(bob).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: bobs, Device: "/dev/sdf" })),
      "InvalidVolume.NotFound",
    );
    const inst = await running(alice);
    await ec2(alice).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "xvdh" }));
    expect((await volume(alice, vol)).Attachments![0]!.Device).toBe("/dev/xvdh");
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [inst] }));
    expect((await volume(alice, vol)).State).toBe("available");
    await expectEc2Error(
      ec2(alice).send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf" })),
      "IncorrectState",
    );
    await ec2(alice).send(new DeleteVolumeCommand({ VolumeId: vol }));
  });

  it("DescribeVolumes pages with MaxResults and NextToken", async () => {
    const ids = [await available(bob), await available(bob), await available(bob)].sort();
    const first = await ec2(bob).send(
      new DescribeVolumesCommand({ MaxResults: 5, Filters: [{ Name: "status", Values: ["available"] }] }),
    );
    expect(first.NextToken).toBeUndefined();
    const all: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2(bob).send(new DescribeVolumesCommand({ MaxResults: 5, NextToken: token }));
      all.push(...page.Volumes!.filter((v) => v.State !== "deleted" && v.State !== "deleting").map((v) => v.VolumeId!));
      token = page.NextToken;
    } while (token);
    expect(all.sort()).toEqual(ids);
  });
});

describe("attachments across a restart", () => {
  it("an attached volume stays attached when the cloud (its NC too) restarts, and detaches afterwards", async () => {
    const dataDir = tempDir();
    let c = await startTestCloud({ dataDir, settings: { walrusMaxBuckets: 0 } });
    const carol = await makeUser(c, unique("carol"));
    const e = () => ec2Client(c.ec2Url, carol);
    try {
      const image = (
        await e().send(
          new RegisterImageCommand({
            ImageLocation: await uploadBundle(c, carol, imageFile("root.img", 100_000)),
            Name: "root",
          }),
        )
      ).ImageId!;
      const inst = (await e().send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 })))
        .Instances![0]!.InstanceId!;
      await until(
        async () =>
          (await e().send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!
            .State!.Name === "running",
      );
      const vol = (await e().send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE }))).VolumeId!;
      await until(
        async () =>
          (await e().send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State === "available",
      );
      await e().send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf" }));
      await c.stop();
      c = await startTestCloud({ dataDir, settings: { walrusMaxBuckets: 0 } });
      // Past the time a node's report must show an attachment: the report after the restart still does.
      await new Promise((r) => setTimeout(r, 300));
      expect((await e().send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]).toMatchObject({
        State: "in-use",
        Attachments: [{ State: "attached", InstanceId: inst }],
      });
      expect(
        (await e().send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!
          .BlockDeviceMappings![0]!.Ebs!.VolumeId,
      ).toBe(vol);
      await e().send(new DetachVolumeCommand({ VolumeId: vol }));
      expect((await e().send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State).toBe("available");
    } finally {
      await c.stop();
    }
  });
});
