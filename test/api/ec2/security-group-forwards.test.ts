/**
 * On a laptop cloud (loopback addresses), a security group's rules are what reaches an
 * instance: the ports they open to loopback clients are forwarded from the instance's
 * private and public addresses, and every Authorize, Revoke, Associate, Disassociate and
 * Release is in force on the node when the call returns. The fake hypervisor records the
 * forwards a QEMU guest would get (test/e2e/laptop-reach.test.ts connects to a real one).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DisassociateAddressCommand,
  RegisterImageCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { systemClock } from "../../../src/common/clock";
import { FakeHypervisor } from "../../../src/hypervisor/fake/fake-hypervisor";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../../support/bundles";
import { ec2Client } from "../../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let aliceImage: string;
let bobImage: string;
const ec2 = (c: TestUser) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } }); // the default pool: loopback public addresses
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  aliceImage = (
    await ec2(alice).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 50_000)),
        Name: "root",
      }),
    )
  ).ImageId!;
  bobImage = (
    await ec2(bob).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, bob, imageFile("root.img", 50_000)),
        Name: "root",
      }),
    )
  ).ImageId!;
});
afterAll(() => t.stop());

/** The forwards in force on the node, as host:port strings. */
async function forwards(id: string): Promise<string[]> {
  const hv = new FakeHypervisor(join(t.dataDir, "nc", "fake"), { memoryMb: 1, cores: 1, diskGb: 1 }, systemClock);
  return ((await hv.get(id))?.forwards ?? []).map((f) => `${f.protocol}:${f.hostIp}:${f.port}`).sort();
}

async function running(c: TestUser, image: string, groups?: string[]) {
  const id = (
    await ec2(c).send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SecurityGroups: groups }))
  ).Instances![0]!.InstanceId!;
  for (let i = 0; i < 200; i++) {
    const inst = (await ec2(c).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
      .Instances![0]!;
    if (inst.State?.Name === "running") return inst;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${id} did not run`);
}

const ssh = (group: string, cidr = "127.0.0.0/8") => ({
  GroupName: group,
  IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] }],
});

describe("security groups as forwards on a laptop cloud", () => {
  it("closed by default; authorize opens the private and public address; an elastic address moves them; revoke closes; terminate removes", async () => {
    const group = unique("web");
    await ec2(alice).send(new CreateSecurityGroupCommand({ GroupName: group, Description: "web" }));
    const inst = await running(alice, aliceImage, [group]);
    const [priv, pub] = [inst.PrivateIpAddress!, inst.PublicIpAddress!];
    expect(priv).toMatch(/^127\.64\./);
    expect(pub).toMatch(/^127\.65\.0\./);
    expect(inst.PublicDnsName).toBe(pub);
    expect(await forwards(inst.InstanceId!)).toEqual([]);

    await ec2(alice).send(new AuthorizeSecurityGroupIngressCommand(ssh(group)));
    expect(await forwards(inst.InstanceId!)).toEqual([`tcp:${priv}:22`, `tcp:${pub}:22`].sort());
    await ec2(alice).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: group,
        IpPermissions: [
          { IpProtocol: "udp", FromPort: 5000, ToPort: 5001, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
          { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "192.0.2.0/24" }] }, // no loopback client can come from there
        ],
      }),
    );
    expect(await forwards(inst.InstanceId!)).toEqual(
      [
        `tcp:${priv}:22`,
        `tcp:${pub}:22`,
        `udp:${priv}:5000`,
        `udp:${priv}:5001`,
        `udp:${pub}:5000`,
        `udp:${pub}:5001`,
      ].sort(),
    );

    const eip = await ec2(alice).send(new AllocateAddressCommand({}));
    await ec2(alice).send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: inst.InstanceId }));
    const moved = await forwards(inst.InstanceId!);
    expect(moved).toContain(`tcp:${eip.PublicIp}:22`);
    expect(moved.filter((f) => f.split(":")[1] === pub)).toEqual([]);
    await ec2(alice).send(new DisassociateAddressCommand({ PublicIp: eip.PublicIp }));
    expect((await forwards(inst.InstanceId!)).filter((f) => f.split(":")[1] === eip.PublicIp)).toEqual([]);
    // As in Eucalyptus and EC2, an instance launched with a public address gets a new one, and is reached there.
    const renewed = (await ec2(alice).send(new DescribeInstancesCommand({ InstanceIds: [inst.InstanceId!] })))
      .Reservations![0]!.Instances![0]!.PublicIpAddress!;
    expect(renewed).toMatch(/^127\.65\.0\./);
    expect(renewed).not.toBe(eip.PublicIp);
    expect(await forwards(inst.InstanceId!)).toContain(`tcp:${renewed}:22`);
    await ec2(alice).send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: inst.InstanceId }));
    await ec2(alice).send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
    expect((await forwards(inst.InstanceId!)).filter((f) => f.split(":")[1] === eip.PublicIp)).toEqual([]);

    await ec2(alice).send(
      new RevokeSecurityGroupIngressCommand({
        GroupName: group,
        IpPermissions: [{ IpProtocol: "udp", FromPort: 5000, ToPort: 5001, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    await ec2(alice).send(new RevokeSecurityGroupIngressCommand(ssh(group)));
    expect(await forwards(inst.InstanceId!)).toEqual([]);
    await ec2(alice).send(new AuthorizeSecurityGroupIngressCommand(ssh(group)));
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    expect(await forwards(inst.InstanceId!)).toEqual([]); // the domain and all it held are gone
  });

  it("one account's rules open nothing of another's instances", async () => {
    const a = await running(alice, aliceImage);
    const b = await running(bob, bobImage);
    await ec2(bob).send(new AuthorizeSecurityGroupIngressCommand(ssh("default", "0.0.0.0/0")));
    expect(await forwards(b.InstanceId!)).toHaveLength(2);
    expect(await forwards(a.InstanceId!)).toEqual([]);
    await ec2(bob).send(new RevokeSecurityGroupIngressCommand(ssh("default", "0.0.0.0/0")));
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: [a.InstanceId!] }));
    await ec2(bob).send(new TerminateInstancesCommand({ InstanceIds: [b.InstanceId!] }));
  });
});
