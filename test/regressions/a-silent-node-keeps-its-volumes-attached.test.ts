/**
 * An NC that stopped answering with a volume attached: the volume was made `available`
 * ("the volume's instance let go of it") while the guest still ran, so attaching it
 * elsewhere pulled the disk from under it. Now the attachment stays while the node is
 * silent, a DetachVolume is kept as an intent (`detaching`) and carried out once the node
 * answers; only then is the volume available.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { writeFileSync, rmSync } from "node:fs";
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../support/bundles";
import { until } from "../support/until";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let alice: TestUser;
let imageId = "";
const ec2 = () => ec2Client(t.ec2Url, alice);
const failures = () => join(t.dataDir, "nc", "fake", "failures.json");
const volume = async (id: string) => (await ec2().send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
const state = async (id: string) =>
  (await ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0, nodeDownSeconds: 1, instanceReachabilitySeconds: 1 } });
  alice = await makeUser(t, unique("alice"));
  imageId = (
    await ec2().send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 100_000)),
        Name: "root",
      }),
    )
  ).ImageId!;
});
afterAll(async () => {
  rmSync(failures(), { force: true });
  await t.stop();
});

describe("a silent node's volumes", () => {
  it("stay attached; a detach waits for the node; the volume is free only once the node let go", async () => {
    const run = async () => {
      const id = (await ec2().send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))
        .Instances![0]!.InstanceId!;
      await until(async () => (await state(id)) === "running");
      return id;
    };
    const inst = await run();
    const other = await run();
    const vol = (await ec2().send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
    await until(async () => (await volume(vol)).State === "available");
    await ec2().send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf" }));
    await until(async () => (await volume(vol)).Attachments?.[0]?.State === "attached");

    writeFileSync(failures(), JSON.stringify({ unreachable: true }));
    await until(
      async () =>
        (await ec2().send(new DescribeInstanceStatusCommand({ InstanceIds: [inst] }))).InstanceStatuses?.[0]
          ?.SystemStatus?.Status === "impaired",
      { timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 1_000)); // many polls more
    expect(await state(inst)).toBe("running");
    expect(await volume(vol)).toMatchObject({
      State: "in-use",
      Attachments: [{ InstanceId: inst, State: "attached" }],
    });

    // The detach is kept; the volume cannot go to another instance meanwhile.
    const d = await ec2().send(new DetachVolumeCommand({ VolumeId: vol }));
    expect(d.State).toBe("detaching");
    expect(await volume(vol)).toMatchObject({
      State: "in-use",
      Attachments: [{ InstanceId: inst, State: "detaching" }],
    });
    await expect(
      ec2().send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: other, Device: "/dev/sdg" })),
    ).rejects.toMatchObject({ name: "VolumeInUse" });

    // The node answers: the detach is carried out there, then the volume is free.
    rmSync(failures());
    await until(async () => (await volume(vol)).State === "available", { timeoutMs: 30_000 });
    expect(await state(inst)).toBe("running");
    await ec2().send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: other, Device: "/dev/sdg" }));
    await until(async () => (await volume(vol)).Attachments?.[0]?.State === "attached");
  }, 120_000);
});
