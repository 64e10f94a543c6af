/** RunInstances to TerminateInstances through the whole cloud (CLC → CC → NC on the fake hypervisor) with the JS SDK. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RunInstancesCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  GetConsoleOutputCommand,
  RegisterImageCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  ConfirmProductInstanceCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { ec2Client, expectEc2Error } from "../../support/ec2";
import { waitForInstances } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let imageId: string;
let keyName: string;
let groupName: string;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);

async function describe1(c: TestUser, ids: string[]): Promise<Instance[]> {
  const r = await ec2(c).send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

const waitFor = (c: TestUser, ids: string[], state: string): Promise<Instance[]> =>
  waitForInstances(ec2(c), ids, state, { everyMs: 25 });

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  const location = await uploadBundle(t, alice, imageFile("root.img", 300_000));
  imageId = (await ec2(alice).send(new RegisterImageCommand({ ImageLocation: location, Name: "root" }))).ImageId!;
  keyName = unique("kp");
  await ec2(alice).send(new CreateKeyPairCommand({ KeyName: keyName }));
  groupName = unique("web");
  await ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: groupName, Description: "web" }));
});
afterAll(() => t.stop());

describe("instances end to end on the fake hypervisor", () => {
  it("run two with user data, key and group; running; console; tags and filters; reboot; stop refused; terminate", async () => {
    const userData = Buffer.from("#!/bin/sh\necho hello\n").toString("base64");
    const request = {
      ImageId: imageId,
      MinCount: 2,
      MaxCount: 2,
      KeyName: keyName,
      SecurityGroups: [groupName],
      UserData: userData,
      InstanceType: "m1.small" as const,
      ClientToken: "token-1",
    };
    const run = await ec2(alice).send(new RunInstancesCommand(request));
    expect(run.ReservationId).toMatch(/^r-/);
    expect(run.OwnerId).toBe(alice.account);
    const ids = run.Instances!.map((i) => i.InstanceId!);
    expect(
      run.Instances!.map((i) => [i.State?.Name, i.ImageId, i.KeyName, i.AmiLaunchIndex, i.Placement?.AvailabilityZone]),
    ).toEqual([
      ["pending", imageId, keyName, 0, "cluster1"],
      ["pending", imageId, keyName, 1, "cluster1"],
    ]);
    expect(new Set(run.Instances!.map((i) => i.PrivateIpAddress)).size).toBe(2);
    // The same request with the same client token returns the same reservation instead of launching again;
    // the token with other parameters is refused, as EC2 does.
    const again = await ec2(alice).send(new RunInstancesCommand(request));
    expect(again.Instances!.map((i) => i.InstanceId)).toEqual(ids);
    await expectEc2Error(
      ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 2, MaxCount: 2, ClientToken: "token-1" })),
      "IdempotentParameterMismatch",
    );

    const running = await waitFor(alice, ids, "running");
    expect(running[0]!.SecurityGroups?.map((g) => g.GroupName)).toEqual([groupName]);
    // What runs them, as their node reported it: the fake driver, which mimics Xen's paravirtual guests.
    expect(running.map((i) => [i.Hypervisor, i.VirtualizationType])).toEqual([
      ["fake", "paravirtual"],
      ["fake", "paravirtual"],
    ]);
    const out = await ec2(alice).send(new GetConsoleOutputCommand({ InstanceId: ids[0] }));
    expect(Buffer.from(out.Output!, "base64").toString()).toContain(`${ids[0]} login:`);

    await ec2(alice).send(new CreateTagsCommand({ Resources: [ids[1]!], Tags: [{ Key: "Name", Value: "web-2" }] }));
    const tagged = await ec2(alice).send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:Name", Values: ["web-*"] },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
    );
    expect(tagged.Reservations?.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([ids[1]]);
    // Listings are rendered from cached items: a change of tags shows at once.
    expect(tagged.Reservations![0]!.Instances![0]!.Tags).toEqual([{ Key: "Name", Value: "web-2" }]);
    await ec2(alice).send(new DeleteTagsCommand({ Resources: [ids[1]!], Tags: [{ Key: "Name" }] }));
    expect((await describe1(alice, [ids[1]!]))[0]!.Tags ?? []).toEqual([]);
    await ec2(alice).send(new CreateTagsCommand({ Resources: [ids[1]!], Tags: [{ Key: "Name", Value: "web-2" }] }));

    const attr = await ec2(alice).send(
      new DescribeInstanceAttributeCommand({ InstanceId: ids[0], Attribute: "userData" }),
    );
    expect(attr.UserData?.Value).toBe(userData);
    expect(
      (await ec2(alice).send(new DescribeInstanceAttributeCommand({ InstanceId: ids[0], Attribute: "instanceType" })))
        .InstanceType?.Value,
    ).toBe("m1.small");
    const status = await ec2(alice).send(new DescribeInstanceStatusCommand({ InstanceIds: ids }));
    expect(
      status.InstanceStatuses?.map((x) => [x.InstanceState?.Name, x.InstanceStatus?.Status, x.SystemStatus?.Status]),
    ).toEqual([
      ["running", "ok", "ok"],
      ["running", "ok", "ok"],
    ]);

    const confirm = await ec2(bob).send(
      new ConfirmProductInstanceCommand({ InstanceId: ids[0], ProductCode: "no-such-code" }),
    );
    expect(confirm.Return).toBe(false);
    // An image that carries a product code: the code's vendor can confirm the instance and learn its owner.
    const coded = await uploadBundle(t, alice, imageFile("coded.img", 50_000), undefined, ["devpay-42"]);
    const codedImage = (await ec2(alice).send(new RegisterImageCommand({ ImageLocation: coded, Name: "coded" })))
      .ImageId!;
    const codedRun = await ec2(alice).send(new RunInstancesCommand({ ImageId: codedImage, MinCount: 1, MaxCount: 1 }));
    const yes = await ec2(bob).send(
      new ConfirmProductInstanceCommand({ InstanceId: codedRun.Instances![0]!.InstanceId, ProductCode: "devpay-42" }),
    );
    expect([yes.Return, yes.OwnerId]).toEqual([true, alice.account]);
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [codedRun.Instances![0]!.InstanceId!] }));

    await ec2(alice).send(new RebootInstancesCommand({ InstanceIds: [ids[0]!] }));
    expect(
      Buffer.from(
        (await ec2(alice).send(new GetConsoleOutputCommand({ InstanceId: ids[0] }))).Output!,
        "base64",
      ).toString(),
    ).toContain("Restarting system");

    await expectEc2Error(describe1(bob, ids), "InvalidInstanceID.NotFound");
    await expect(ec2(bob).send(new TerminateInstancesCommand({ InstanceIds: ids }))).rejects.toMatchObject({
      name: "InvalidInstanceID.NotFound",
    });

    // Stop and Start: instance-store instances are refused as EC2 refuses them; another tenant's are not found.
    await expect(ec2(alice).send(new StopInstancesCommand({ InstanceIds: [ids[0]!] }))).rejects.toMatchObject({
      name: "UnsupportedOperation",
      message: `The instance '${ids[0]}' does not have an 'ebs' root device type and cannot be stopped.`,
    });
    await expectEc2Error(
      ec2(alice).send(new StartInstancesCommand({ InstanceIds: [ids[0]!] })),
      "UnsupportedOperation",
    );
    await expectEc2Error(
      ec2(bob).send(new StopInstancesCommand({ InstanceIds: [ids[0]!] })),
      "InvalidInstanceID.NotFound",
    );
    expect((await describe1(alice, [ids[0]!]))[0]!.State?.Name).toBe("running");

    const term = await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: ids }));
    expect(term.TerminatingInstances?.map((i) => [i.PreviousState?.Name, i.CurrentState?.Name])).toEqual([
      ["running", "terminated"],
      ["running", "terminated"],
    ]);
    const after = await describe1(alice, ids);
    expect(after.map((i) => i.State?.Name)).toEqual(["terminated", "terminated"]); // still visible for a while
    expect((await ec2(alice).send(new DescribeInstanceStatusCommand({ InstanceIds: ids }))).InstanceStatuses).toEqual(
      [],
    );
    expect(
      (
        await ec2(alice).send(new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true }))
      ).InstanceStatuses?.map((x) => x.InstanceState?.Name),
    ).toEqual(["terminated", "terminated"]);
    await expectEc2Error(
      ec2(alice).send(new StartInstancesCommand({ InstanceIds: [ids[0]!] })),
      "IncorrectInstanceState",
    );
    await expectEc2Error(
      ec2(alice).send(new RebootInstancesCommand({ InstanceIds: [ids[0]!] })),
      "IncorrectInstanceState",
    );
  });

  it("instances of different security groups get addresses in different group networks", async () => {
    const other = unique("db");
    await ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: other, Description: "db" }));
    const a = (
      await ec2(alice).send(
        new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, SecurityGroups: [groupName] }),
      )
    ).Instances![0]!;
    const b = (
      await ec2(alice).send(
        new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, SecurityGroups: [other] }),
      )
    ).Instances![0]!;
    const net = (ip: string) => {
      const [, , c, d] = ip.split(".").map(Number);
      return Math.floor((c! * 256 + d!) / 32);
    };
    expect(a.PrivateIpAddress).toMatch(/^127\.64\./);
    expect(net(a.PrivateIpAddress!)).not.toBe(net(b.PrivateIpAddress!));
    expect(a.NetworkInterfaces ?? []).toEqual([]);
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [a.InstanceId!, b.InstanceId!] }));
  });

  it("refuses bad requests with the right codes and leaves nothing behind", async () => {
    const run = (over: Record<string, unknown>) =>
      ec2(alice).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, ...over }));
    await expectEc2Error(run({ ImageId: "emi-00000000" }), "InvalidAMIID.NotFound");
    await expectEc2Error(run({ KeyName: "no-such-key" }), "InvalidKeyPair.NotFound");
    await expectEc2Error(run({ SecurityGroups: ["no-such-group"] }), "InvalidGroup.NotFound");
    await expectEc2Error(run({ InstanceType: "m9.galactic" }), "InvalidParameterValue");
    await expect(run({ Placement: { AvailabilityZone: "nowhere" } })).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    await expectEc2Error(run({ MinCount: 3, MaxCount: 2 }), "InvalidParameterValue");
    await expectEc2Error(
      run({ BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { SnapshotId: "snap-00000000" } }] }),
      "InvalidSnapshot.NotFound",
    );
    await expectEc2Error(
      run({
        BlockDeviceMappings: [
          { DeviceName: "/dev/sdb", Ebs: { VolumeSize: 1 } },
          { DeviceName: "sdb", Ebs: { VolumeSize: 2 } },
        ],
      }),
      "InvalidBlockDeviceMapping",
    );
    // An instance-store image's root cannot become a volume.
    await expectEc2Error(
      run({ BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 1 } }] }),
      "InvalidBlockDeviceMapping",
    );
    await expectEc2Error(
      ec2(bob).send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })),
      "InvalidAMIID.NotFound",
    );
    // The test node has 4 cores: five m1.small do not fit, and nothing is started.
    await expectEc2Error(run({ MinCount: 5, MaxCount: 5 }), "InsufficientInstanceCapacity");
    const live =
      (
        await ec2(alice).send(
          new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
        )
      ).Reservations ?? [];
    expect(live).toEqual([]);
    // MaxCount above capacity launches what fits (4), not fewer than MinCount.
    const some = await run({ MinCount: 1, MaxCount: 10 });
    expect(some.Instances).toHaveLength(4);
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: some.Instances!.map((i) => i.InstanceId!) }));
  });
});
