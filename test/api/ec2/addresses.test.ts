import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AllocateAddressCommand,
  ReleaseAddressCommand,
  AssociateAddressCommand,
  DisassociateAddressCommand,
  DescribeAddressesCommand,
  RunInstancesCommand,
  RegisterImageCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { errorCode, formEncode, post, sigV4Headers } from "../../support/query-client";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let imageId: string;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud({
    settings: { walrusMaxBuckets: 0, publicIps: "192.0.2.10-192.0.2.14", maxAddressesPerUser: 2 },
  });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  const location = await uploadBundle(t, alice, imageFile("root.img", 100_000));
  imageId = (await ec2(alice).send(new RegisterImageCommand({ ImageLocation: location, Name: "root" }))).ImageId!;
});
afterAll(() => t.stop());

/** RunInstances with AddressingType=private, which the SDKs no longer send (euca2ools' --addressing private did). */
async function runPrivate(c: TestUser, image: string): Promise<string> {
  const body = formEncode({
    Action: "RunInstances",
    Version: "2016-11-15",
    ImageId: image,
    MinCount: "1",
    MaxCount: "1",
    AddressingType: "private",
  });
  const r = await post(t.ec2Url, body, sigV4Headers(t.ec2Url, c, body));
  if (r.status !== 200) throw new Error(`${errorCode(r.body)}: ${r.body}`);
  return /<instanceId>([^<]+)<\/instanceId>/.exec(r.body)![1]!;
}

const instanceOf = async (c: TestUser, id: string) =>
  (await ec2(c).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;

describe("addresses", () => {
  it("a launch address unless AddressingType=private; allocate, associate, disassociate, release; per-user limit", async () => {
    const withIp = (await ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))
      .Instances![0]!;
    const launchIp = (await instanceOf(alice, withIp.InstanceId!)).PublicIpAddress;
    expect(launchIp).toMatch(/^192\.0\.2\.1[0-4]$/);
    const privateOnly = { InstanceId: await runPrivate(alice, imageId) };
    expect((await instanceOf(alice, privateOnly.InstanceId)).PublicIpAddress).toBeUndefined();

    const a1 = await ec2(alice).send(new AllocateAddressCommand({}));
    expect(a1.PublicIp).toMatch(/^192\.0\.2\./);
    expect(a1.PublicIp).not.toBe(launchIp);
    await ec2(alice).send(new AllocateAddressCommand({}));
    await expect(ec2(alice).send(new AllocateAddressCommand({}))).rejects.toMatchObject({
      name: "AddressLimitExceeded",
    });

    const assoc = await ec2(alice).send(
      new AssociateAddressCommand({ PublicIp: a1.PublicIp, InstanceId: withIp.InstanceId }),
    );
    expect(assoc.AssociationId).toMatch(/^eipassoc-/);
    expect((await instanceOf(alice, withIp.InstanceId!)).PublicIpAddress).toBe(a1.PublicIp);
    const listed = await ec2(alice).send(new DescribeAddressesCommand({}));
    expect(listed.Addresses?.find((x) => x.PublicIp === a1.PublicIp)?.InstanceId).toBe(withIp.InstanceId);
    expect((await ec2(bob).send(new DescribeAddressesCommand({}))).Addresses).toEqual([]);
    await expectEc2Error(
      ec2(bob).send(new AssociateAddressCommand({ PublicIp: a1.PublicIp, InstanceId: withIp.InstanceId })),
      "InvalidInstanceID.NotFound",
    );
    await expect(ec2(bob).send(new ReleaseAddressCommand({ PublicIp: a1.PublicIp }))).rejects.toMatchObject({
      name: "InvalidAddress.NotFound",
    });

    await ec2(alice).send(new DisassociateAddressCommand({ PublicIp: a1.PublicIp }));
    await expect(ec2(alice).send(new DisassociateAddressCommand({ PublicIp: a1.PublicIp }))).rejects.toMatchObject({
      name: "IncorrectState",
    });
    await ec2(alice).send(new ReleaseAddressCommand({ AllocationId: a1.AllocationId }));
    expect((await ec2(alice).send(new DescribeAddressesCommand({}))).Addresses?.map((x) => x.PublicIp)).not.toContain(
      a1.PublicIp,
    );

    // Terminating returns the launch address to the pool.
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [withIp.InstanceId!, privateOnly.InstanceId] }));
    const admin = { ...t.admin, name: "admin", account: "" };
    const all = await ec2(admin).send(new DescribeAddressesCommand({ PublicIps: ["verbose"] }));
    expect(all.Addresses?.find((x) => x.PublicIp === launchIp)?.InstanceId).toBeUndefined();
  });

  it("an exhausted pool refuses public launches but not private ones", async () => {
    const c = ec2(bob);
    const held = [];
    for (let i = 0; i < 2; i++) held.push(await c.send(new AllocateAddressCommand({})));
    const admin = { ...t.admin, name: "admin", account: "" };
    const taken = [];
    for (;;) {
      try {
        taken.push(await ec2(admin).send(new AllocateAddressCommand({})));
      } catch {
        break;
      }
    }
    const location = await uploadBundle(t, bob, imageFile("bob.img", 50_000));
    const bobImage = (await c.send(new RegisterImageCommand({ ImageLocation: location, Name: "b" }))).ImageId!;
    await expect(
      c.send(new RunInstancesCommand({ ImageId: bobImage, MinCount: 1, MaxCount: 1 })),
    ).rejects.toMatchObject({ message: expect.stringContaining("try --addressing private") });
    expect(await runPrivate(bob, bobImage)).toMatch(/^i-/);
    for (const a of [...held, ...taken])
      await ec2(a === held[0] || a === held[1] ? bob : admin).send(new ReleaseAddressCommand({ PublicIp: a.PublicIp }));
  });
});
