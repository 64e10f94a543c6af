/**
 * Resource ids as AWS writes them — lower-case hex, 8 digits (17 with --long-ids) —
 * found and acted on in any case, and ids made by earlier versions (upper-case) too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { randomIds, randomIdsWith, type IdGenerator } from "../../../src/common/ids";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { ec2Client } from "../../support/ec2";

/** Ids as Eucalyptus 1.6 and earlier euca wrote them. */
const upperIds: IdGenerator = {
  ...randomIds,
  resourceId: (k) =>
    randomIds
      .resourceId(k)
      .toUpperCase()
      .replace(/^([A-Z]+)-/, (p) => p.toLowerCase()),
};

async function setup(ids?: IdGenerator, settings = {}) {
  const t = await startTestCloud({ settings: { walrusMaxBuckets: 0, ...settings }, ids });
  const alice = await makeUser(t, unique("alice"));
  const ec2 = ec2Client(t.ec2Url, alice);
  const imageId = (
    await ec2.send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 50_000)),
        Name: "r",
      }),
    )
  ).ImageId!;
  return { t, alice, ec2, imageId };
}

const swapCase = (id: string) =>
  id.replace(/[a-zA-Z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

describe("resource ids", () => {
  let c: { t: TestCloud; alice: TestUser; ec2: EC2Client; imageId: string };
  beforeAll(async () => {
    c = await setup();
  });
  afterAll(() => c.t.stop());

  it("are lower-case hex, 8 digits, as AWS writes them", async () => {
    const run = await c.ec2.send(new RunInstancesCommand({ ImageId: c.imageId, MinCount: 1, MaxCount: 1 }));
    expect(c.imageId).toMatch(/^emi-[0-9a-f]{8}$/);
    expect(run.Instances![0]!.InstanceId).toMatch(/^i-[0-9a-f]{8}$/);
    expect(run.ReservationId).toMatch(/^r-[0-9a-f]{8}$/);
    await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [run.Instances![0]!.InstanceId!] }));
  });

  it("are found and acted on in upper case", async () => {
    const id = (
      await c.ec2.send(new RunInstancesCommand({ ImageId: c.imageId.toUpperCase(), MinCount: 1, MaxCount: 1 }))
    ).Instances![0]!.InstanceId!;
    const upper = id.toUpperCase();
    expect(
      (await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [upper] }))).Reservations?.[0]?.Instances?.[0]
        ?.InstanceId,
    ).toBe(id);
    expect(
      (await c.ec2.send(new DescribeImagesCommand({ ImageIds: [c.imageId.toUpperCase()] }))).Images?.[0]?.ImageId,
    ).toBe(c.imageId);
    await c.ec2.send(new CreateTagsCommand({ Resources: [upper], Tags: [{ Key: "k", Value: "v" }] }));
    expect((await c.ec2.send(new DescribeTagsCommand({}))).Tags?.find((x) => x.Key === "k")?.ResourceId).toBe(id);
    const done = await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [upper] }));
    expect(done.TerminatingInstances?.[0]?.CurrentState?.Name).toBe("terminated");
  });
});

describe("ids made by earlier versions (upper-case)", () => {
  it("are found in either case", async () => {
    const c = await setup(upperIds);
    try {
      expect(c.imageId).toMatch(/^emi-[0-9A-F]{8}$/);
      const id = (
        await c.ec2.send(new RunInstancesCommand({ ImageId: c.imageId.toLowerCase(), MinCount: 1, MaxCount: 1 }))
      ).Instances![0]!.InstanceId!;
      expect(
        (await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [swapCase(id).replace(/^I-/, "i-")] })))
          .Reservations?.[0]?.Instances?.[0]?.InstanceId,
      ).toBe(id);
      await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id.toLowerCase()] }));
    } finally {
      await c.t.stop();
    }
  });
});

describe("--long-ids", () => {
  it("makes 17-digit ids", async () => {
    const ids = randomIdsWith({ longIds: true });
    expect(ids.resourceId("instance")).toMatch(/^i-[0-9a-f]{17}$/);
    const c = await setup(undefined, { longIds: true });
    try {
      expect(c.imageId).toMatch(/^emi-[0-9a-f]{17}$/);
    } finally {
      await c.t.stop();
    }
  });
});
