/**
 * EBS-backed images and instances through the EC2 API (the AWS SDK v3) on the in-process
 * cloud: the SC makes real files and restores real snapshot chunks from Walrus, the fake
 * hypervisor boots from the root volume's file. Register from a snapshot, launch with a
 * larger root and an extra volume, Stop / Start (same id, private address, volumes),
 * instance attributes, termination protection, Terminate with DeleteOnTermination — and
 * each refusal with EC2's code.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CopyImageCommand,
  CopySnapshotCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeRegionsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  ModifyInstanceAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { until } from "../../support/until";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let snapshotId: string;
let imageId: string;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);
const ZONE = "cluster1";
const MARKER = Buffer.from("euca-ebs-root-marker\n");

/** A file under the cloud's data directory named for the resource (the SC's volume files). */
function fileOf(id: string, dir = t.dataDir): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const found = fileOf(id, p);
      if (found) return found;
    } else if (e.name.startsWith(id) && !e.name.endsWith(".json")) return p;
  }
  return undefined;
}
const readAt = (path: string, at: number, n: number) => {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, at);
    return b;
  } finally {
    closeSync(fd);
  }
};
/** The fake hypervisor's domain of an instance (gone when it is not running). */
const domainFile = (id: string) => join(t.dataDir, "nc", "fake", "domains", `${id}.json`);
const domainDisks = (id: string) =>
  (
    JSON.parse(readFileSync(domainFile(id), "utf8")) as {
      spec: { disks: Array<{ device: string; path: string; volumeId?: string }> };
    }
  ).spec.disks;
const instance = async (c: TestUser, id: string): Promise<Instance> =>
  (await ec2(c).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
const inState = (c: TestUser, id: string, state: string) =>
  until(async () => (await instance(c, id)).State?.Name === state, { timeoutMs: 30_000 });
const volume = async (c: TestUser, id: string) =>
  (await ec2(c).send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;

beforeAll(async () => {
  t = await startTestCloud({ settings: { scMaxVolumeGb: 8, scMaxTotalGb: 40, scMaxVolumesPerUser: 10 } });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  // A 1 GiB volume with a marker 100 MiB in, snapshotted: the image's root.
  const vol = (await ec2(alice).send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: ZONE }))).VolumeId!;
  await until(async () => (await volume(alice, vol)).State === "available");
  const fd = openSync(fileOf(vol)!, "r+");
  writeSync(fd, MARKER, 0, MARKER.length, 100 * 1024 ** 2);
  closeSync(fd);
  snapshotId = (await ec2(alice).send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
  await until(
    async () =>
      (await ec2(alice).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!.State ===
      "completed",
    { timeoutMs: 60_000 },
  );
  imageId = (
    await ec2(alice).send(
      new RegisterImageCommand({
        Name: unique("debian-ebs"),
        RootDeviceName: "/dev/sda1",
        VirtualizationType: "hvm",
        BlockDeviceMappings: [
          { DeviceName: "/dev/sda1", Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true } },
          { DeviceName: "/dev/sdb", VirtualName: "ephemeral0" },
        ],
      }),
    )
  ).ImageId!;
}, 120_000);
afterAll(() => t.stop());

describe("EBS-backed images and instances", () => {
  it("an image registered from a snapshot is shown with its root device and mappings", async () => {
    const [img] = (await ec2(alice).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
    expect(img).toMatchObject({
      RootDeviceType: "ebs",
      RootDeviceName: "/dev/sda1",
      VirtualizationType: "hvm",
      State: "available",
      ImageType: "machine",
    });
    expect(img!.BlockDeviceMappings).toEqual([
      {
        DeviceName: "/dev/sda1",
        Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true, VolumeType: "standard", Encrypted: false },
      },
      { DeviceName: "/dev/sdb", VirtualName: "ephemeral0" },
    ]);
    const byFilter = await ec2(alice).send(
      new DescribeImagesCommand({ Filters: [{ Name: "root-device-type", Values: ["ebs"] }] }),
    );
    expect(byFilter.Images!.map((i) => i.ImageId)).toEqual([imageId]);
  });

  it("launches with a larger root and an extra volume; stops, starts and terminates keeping what EC2 keeps", async () => {
    const run = await ec2(alice).send(
      new RunInstancesCommand({
        ImageId: imageId,
        MinCount: 1,
        MaxCount: 1,
        BlockDeviceMappings: [
          { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 3 } },
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1, DeleteOnTermination: false } },
        ],
        TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "made-by", Value: "launch" }] }],
      }),
    );
    const id = run.Instances![0]!.InstanceId!;
    expect(run.Instances![0]).toMatchObject({ RootDeviceType: "ebs", RootDeviceName: "/dev/sda1" });
    await inState(alice, id, "running");
    const up = await instance(alice, id);
    const maps = new Map(up.BlockDeviceMappings!.map((m) => [m.DeviceName, m.Ebs!]));
    expect([...maps.keys()].sort()).toEqual(["/dev/sda1", "/dev/sdf"]);
    const rootVol = maps.get("/dev/sda1")!.VolumeId!;
    const extraVol = maps.get("/dev/sdf")!.VolumeId!;
    expect(maps.get("/dev/sda1")).toMatchObject({ Status: "attached", DeleteOnTermination: true });
    expect(maps.get("/dev/sdf")).toMatchObject({ Status: "attached", DeleteOnTermination: false });
    expect(await volume(alice, rootVol)).toMatchObject({ Size: 3, SnapshotId: snapshotId, State: "in-use" });
    expect((await volume(alice, extraVol)).Tags).toEqual([{ Key: "made-by", Value: "launch" }]);
    // The guest boots from the root volume's own file (same host), holding the snapshot's data, grown to 3 GiB.
    const disks = domainDisks(id);
    expect(disks[0]!.volumeId).toBe(rootVol);
    expect(statSync(disks[0]!.path).size).toBe(3 * 1024 ** 3);
    expect(readAt(disks[0]!.path, 100 * 1024 ** 2, MARKER.length)).toEqual(MARKER);
    expect(disks.some((d) => d.volumeId === extraVol)).toBe(true);
    expect(disks.some((d) => !d.volumeId && d.path.endsWith("ephemeral0"))).toBe(true);
    const privateIp = up.PrivateIpAddress;

    // Attributes: the type only while stopped; termination protection at any time.
    await expectEc2Error(
      ec2(alice).send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: "c1.medium" } })),
      "IncorrectInstanceState",
    );
    await ec2(alice).send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }),
    );
    await expectEc2Error(
      ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [id] })),
      "OperationNotPermitted",
    );
    await expectEc2Error(ec2(alice).send(new DetachVolumeCommand({ VolumeId: rootVol })), "IncorrectInstanceState");
    expect(
      (
        await ec2(alice).send(
          new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "instanceInitiatedShutdownBehavior" }),
        )
      ).InstanceInitiatedShutdownBehavior?.Value,
    ).toBe("stop");

    // Stop: the guest is gone from its node, the volumes stay attached, the state says why.
    const stop = await ec2(alice).send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(stop.StoppingInstances![0]!.PreviousState?.Name).toBe("running");
    await inState(alice, id, "stopped");
    expect(existsSync(domainFile(id))).toBe(false);
    const stopped = await instance(alice, id);
    expect(stopped.StateReason?.Code).toBe("Client.UserInitiatedShutdown");
    expect(stopped.StateTransitionReason).toMatch(/^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
    expect(stopped.BlockDeviceMappings!.map((m) => m.Ebs!.VolumeId).sort()).toEqual([rootVol, extraVol].sort());
    expect((await volume(alice, rootVol)).State).toBe("in-use");
    // Stopping a stopped one changes nothing; starting a stopped one of another tenant is not found.
    const again = await ec2(alice).send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(again.StoppingInstances![0]!.CurrentState?.Name).toBe("stopped");
    await expectEc2Error(ec2(bob).send(new StartInstancesCommand({ InstanceIds: [id] })), "InvalidInstanceID.NotFound");

    await ec2(alice).send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: "c1.medium" } }));
    await ec2(alice).send(
      new ModifyInstanceAttributeCommand({
        InstanceId: id,
        UserData: { Value: Buffer.from("#!/bin/sh\necho hi\n") },
      }),
    );

    // Start: same id, private address and volumes; the new type.
    const start = await ec2(alice).send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(start.StartingInstances![0]).toMatchObject({
      PreviousState: { Name: "stopped" },
      CurrentState: { Name: "pending" },
    });
    await inState(alice, id, "running");
    const back = await instance(alice, id);
    expect(back).toMatchObject({ InstanceType: "c1.medium", PrivateIpAddress: privateIp });
    expect(domainDisks(id)[0]!.volumeId).toBe(rootVol);
    expect(readAt(domainDisks(id)[0]!.path, 100 * 1024 ** 2, MARKER.length)).toEqual(MARKER);
    const userData = await ec2(alice).send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
    );
    expect(Buffer.from(userData.UserData!.Value!, "base64").toString()).toBe("#!/bin/sh\necho hi\n");

    // Terminate: the root (DeleteOnTermination) goes, the extra volume stays available.
    await ec2(alice).send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }),
    );
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await inState(alice, id, "terminated");
    await until(async () => ["deleting", "deleted"].includes((await volume(alice, rootVol)).State!));
    await until(async () => (await volume(alice, extraVol)).State === "available");
  });

  it("makes images of an instance (held still, or stopped and started again) and copies images and snapshots", async () => {
    const id = (await ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))
      .Instances![0]!.InstanceId!;
    await inState(alice, id, "running");
    const second = Buffer.from("written-after-launch\n");
    const rootFile = domainDisks(id)[0]!.path;
    const fd = openSync(rootFile, "r+");
    writeSync(fd, second, 0, second.length, 200 * 1024 ** 2);
    closeSync(fd);
    const image = async (imgId: string) =>
      (await ec2(alice).send(new DescribeImagesCommand({ ImageIds: [imgId] }))).Images![0]!;
    const available = (imgId: string) =>
      until(async () => (await image(imgId)).State === "available", { timeoutMs: 30_000 });

    // NoReboot: the guest keeps running; its volumes are held still for their copies.
    const quick = (
      await ec2(alice).send(new CreateImageCommand({ InstanceId: id, Name: unique("quick"), NoReboot: true }))
    ).ImageId!;
    await available(quick);
    expect((await instance(alice, id)).State?.Name).toBe("running");
    const quickRoot = (await image(quick)).BlockDeviceMappings!.find((m) => m.DeviceName === "/dev/sda1")!.Ebs!;
    const [quickSnap] = (await ec2(alice).send(new DescribeSnapshotsCommand({ SnapshotIds: [quickRoot.SnapshotId!] })))
      .Snapshots!;
    expect(quickSnap!.Description).toBe(`Created by CreateImage(${id}) for ${quick}`);
    expect((await image(quick)).BlockDeviceMappings!.find((m) => m.DeviceName === "/dev/sdb")?.VirtualName).toBe(
      "ephemeral0",
    );

    // The default: the instance is stopped for the copies and started again, same id.
    const rebooted = (await ec2(alice).send(new CreateImageCommand({ InstanceId: id, Name: unique("rebooted") })))
      .ImageId!;
    expect((await image(rebooted)).State).toBe("pending");
    await available(rebooted);
    await inState(alice, id, "running");

    // Launched, the new image holds the snapshot's marker and what was written after the launch.
    const child = (await ec2(alice).send(new RunInstancesCommand({ ImageId: rebooted, MinCount: 1, MaxCount: 1 })))
      .Instances![0]!.InstanceId!;
    await inState(alice, child, "running");
    const childRoot = domainDisks(child)[0]!.path;
    expect(readAt(childRoot, 100 * 1024 ** 2, MARKER.length)).toEqual(MARKER);
    expect(readAt(childRoot, 200 * 1024 ** 2, second.length)).toEqual(second);

    // Copies: a snapshot of the same chunks (completed at once), an image of copied snapshots.
    const region = (await ec2(alice).send(new DescribeRegionsCommand({}))).Regions![0]!.RegionName!;
    const copy = await ec2(alice).send(
      new CopySnapshotCommand({ SourceSnapshotId: snapshotId, SourceRegion: region, Description: "copy" }),
    );
    const [copied] = (await ec2(alice).send(new DescribeSnapshotsCommand({ SnapshotIds: [copy.SnapshotId!] })))
      .Snapshots!;
    expect(copied).toMatchObject({ State: "completed", VolumeSize: 1, Description: "copy" });
    await expectEc2Error(
      ec2(alice).send(new CopySnapshotCommand({ SourceSnapshotId: snapshotId, SourceRegion: "us-east-1" })),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      ec2(bob).send(new CopySnapshotCommand({ SourceSnapshotId: snapshotId, SourceRegion: region })),
      "InvalidSnapshot.NotFound",
    );
    const imgCopy = (
      await ec2(alice).send(new CopyImageCommand({ SourceImageId: quick, SourceRegion: region, Name: unique("copy") }))
    ).ImageId!;
    const copyRoot = (await image(imgCopy)).BlockDeviceMappings!.find((m) => m.DeviceName === "/dev/sda1")!.Ebs!;
    expect(copyRoot.SnapshotId).not.toBe(quickRoot.SnapshotId);
    expect((await image(imgCopy)).State).toBe("available");
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [id, child] }));
  });

  it("refuses bad mappings and states with EC2's codes, leaving nothing behind", async () => {
    const volumesBefore = (await ec2(alice).send(new DescribeVolumesCommand({}))).Volumes!.length;
    const run = (over: Record<string, unknown>) =>
      ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, ...over }));
    // A root smaller than its snapshot; a device named twice; a missing snapshot; the root left out.
    await expectEc2Error(
      run({ BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 0 } }] }),
      "InvalidBlockDeviceMapping",
    );
    await expectEc2Error(
      run({
        BlockDeviceMappings: [
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1 } },
          { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1 } },
        ],
      }),
      "InvalidBlockDeviceMapping",
    );
    await expectEc2Error(
      run({ BlockDeviceMappings: [{ DeviceName: "/dev/sdg", Ebs: { SnapshotId: "snap-0badf00d" } }] }),
      "InvalidSnapshot.NotFound",
    );
    await expectEc2Error(
      run({ BlockDeviceMappings: [{ DeviceName: "/dev/sda1", NoDevice: "" }] }),
      "InvalidBlockDeviceMapping",
    );
    expect((await ec2(alice).send(new DescribeVolumesCommand({}))).Volumes!.length).toBe(volumesBefore);

    // Registering: another tenant's snapshot is not found; a root smaller than its snapshot is refused.
    await expectEc2Error(
      ec2(bob).send(
        new RegisterImageCommand({
          Name: "stolen",
          RootDeviceName: "/dev/sda1",
          BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snapshotId } }],
        }),
      ),
      "InvalidSnapshot.NotFound",
    );
    await expectEc2Error(
      ec2(alice).send(
        new RegisterImageCommand({
          Name: unique("small"),
          RootDeviceName: "/dev/sda1",
          BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snapshotId, VolumeSize: 1 } }],
        }),
      ),
      "InvalidBlockDeviceMapping",
    ).catch(() => undefined); // 1 GiB is the snapshot's own size: allowed
    await expectEc2Error(
      ec2(alice).send(
        new RegisterImageCommand({
          Name: unique("no-root"),
          RootDeviceName: "/dev/sda1",
          BlockDeviceMappings: [{ DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1 } }],
        }),
      ),
      "InvalidBlockDeviceMapping",
    );

    // Start of a running instance answers its state; an instance-store instance cannot stop.
    const id = (await run({})).Instances![0]!.InstanceId!;
    await inState(alice, id, "running");
    const start = await ec2(alice).send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(start.StartingInstances![0]!.CurrentState?.Name).toBe("running");
    const store = await ec2(alice).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 100_000)),
        Name: unique("store"),
      }),
    );
    const storeId = (
      await ec2(alice).send(new RunInstancesCommand({ ImageId: store.ImageId!, MinCount: 1, MaxCount: 1 }))
    ).Instances![0]!.InstanceId!;
    await inState(alice, storeId, "running");
    await expectEc2Error(ec2(alice).send(new StopInstancesCommand({ InstanceIds: [storeId] })), "UnsupportedOperation");
    await expectEc2Error(
      ec2(alice).send(new CreateImageCommand({ InstanceId: storeId, Name: unique("from-store") })),
      "UnsupportedOperation",
    );
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [id, storeId] }));
  });
});
