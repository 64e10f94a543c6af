/**
 * The default VPC each account sees (for tools that need one, Ansible's ec2_instance first):
 * DescribeVpcs / Subnets / InternetGateways / RouteTables / NetworkAcls with their filters,
 * groups and instances in it, RunInstances by SubnetId and SecurityGroupIds, and a clear
 * UnsupportedOperation for anything beyond the default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle } from "../../support/bundles";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let ec2: EC2Client;
let other: EC2Client;
let emi: string;
beforeAll(async () => {
  t = await startTestCloud();
  const u = await makeUser(t, unique("vpc"));
  ec2 = ec2Client(t.ec2Url, u);
  other = ec2Client(t.ec2Url, await t.createUser(unique("o")));
  const location = await uploadBundle(t, u, imageFile("vpc.img", 100_000));
  emi = (await ec2.send(new RegisterImageCommand({ ImageLocation: location, Name: "vpc" }))).ImageId!;
});
afterAll(() => t.stop());

describe("the default VPC", () => {
  it("one per account, default, covering the private range; another account sees its own", async () => {
    const [v] = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
    expect(v).toMatchObject({
      IsDefault: true,
      State: "available",
      CidrBlock: "127.64.0.0/16",
      InstanceTenancy: "default",
    });
    expect(v!.VpcId).toMatch(/^vpc-[0-9a-f]{8}$/);
    expect(
      (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] }))).Vpcs,
    ).toHaveLength(1);
    expect(
      (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["false"] }] }))).Vpcs,
    ).toHaveLength(0);
    const [w] = (await other.send(new DescribeVpcsCommand({}))).Vpcs!;
    expect(w!.VpcId).not.toBe(v!.VpcId);
    await expect(ec2.send(new DescribeVpcsCommand({ VpcIds: [w!.VpcId!] }))).rejects.toMatchObject({
      name: "InvalidVpcID.NotFound",
    });
  });

  it("a default subnet per zone, found by vpc-id and default-for-az as ec2_instance asks", async () => {
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
    const subnets = (
      await ec2.send(
        new DescribeSubnetsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpc] },
            { Name: "default-for-az", Values: ["true"] },
          ],
        }),
      )
    ).Subnets!;
    expect(subnets).toHaveLength(1);
    expect(subnets[0]).toMatchObject({
      VpcId: vpc,
      AvailabilityZone: "cluster1",
      DefaultForAz: true,
      MapPublicIpOnLaunch: true,
      State: "available",
    });
    expect(subnets[0]!.AvailableIpAddressCount).toBeGreaterThan(0);
    await expect(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-00000000"] }))).rejects.toMatchObject({
      name: "InvalidSubnetID.NotFound",
    });
  });

  it("the default internet gateway, main route table and network ACL", async () => {
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
    const [igw] = (
      await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: "attachment.vpc-id", Values: [vpc] }] }))
    ).InternetGateways!;
    expect(igw!.Attachments).toEqual([{ VpcId: vpc, State: "available" }]);
    const [rtb] = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "association.main", Values: ["true"] }] }))
    ).RouteTables!;
    expect(rtb!.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId])).toEqual([
      ["127.64.0.0/16", "local"],
      ["0.0.0.0/0", igw!.InternetGatewayId],
    ]);
    const [acl] = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: "default", Values: ["true"] }] })))
      .NetworkAcls!;
    expect(acl).toMatchObject({ VpcId: vpc, IsDefault: true });
  });

  it("groups are in it (CreateSecurityGroup takes its VpcId, no other) and instances run in its subnet by SubnetId and SecurityGroupIds", async () => {
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
    const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!.SubnetId!;
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "in-vpc", Description: "d", VpcId: vpc }),
    );
    await expectEc2Error(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: "elsewhere", Description: "d", VpcId: "vpc-12345678" })),
      "InvalidVpcID.NotFound",
    );
    const groups = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpc] },
            { Name: "group-name", Values: ["in-vpc"] },
          ],
        }),
      )
    ).SecurityGroups!;
    expect(groups.map((g) => [g.GroupId, g.VpcId])).toEqual([[GroupId, vpc]]);
    expect(groups[0]!.IpPermissionsEgress).toEqual([
      expect.objectContaining({ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }),
    ]);

    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: emi,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet,
        SecurityGroupIds: [GroupId!],
      }),
    );
    const inst = r.Instances![0]!;
    expect(inst).toMatchObject({
      VpcId: vpc,
      SubnetId: subnet,
      Placement: expect.objectContaining({ AvailabilityZone: "cluster1" }),
    });
    const found = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "subnet-id", Values: [subnet] },
          { Name: "vpc-id", Values: [vpc] },
        ],
      }),
    );
    expect(found.Reservations!.flatMap((x) => x.Instances!).map((i) => i.InstanceId)).toContain(inst.InstanceId);
    await expectEc2Error(
      ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SubnetId: "subnet-0badc0de" })),
      "InvalidSubnetID.NotFound",
    );
    await expectEc2Error(
      ec2.send(
        new RunInstancesCommand({
          ImageId: emi,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet,
          Placement: { AvailabilityZone: "elsewhere" },
        }),
      ),
      "InvalidParameterCombination",
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });

  it("RunInstances takes the card as VPC tools describe it (one, in a default subnet) and tags from TagSpecification", async () => {
    const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets![0]!.SubnetId!;
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ["default"] }))).SecurityGroups![0]!
      .GroupId!;
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: emi,
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet, Groups: [group], AssociatePublicIpAddress: false }],
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "Name", Value: "by-nic" }] },
          { ResourceType: "volume", Tags: [{ Key: "Name", Value: "by-nic" }] },
        ],
      }),
    );
    const inst = r.Instances![0]!;
    expect(inst).toMatchObject({ SubnetId: subnet, Tags: [{ Key: "Name", Value: "by-nic" }] });
    expect(inst.SecurityGroups!.map((g) => g.GroupId)).toEqual([group]);
    expect(inst.PublicIpAddress).toBeUndefined(); // AssociatePublicIpAddress: false is private addressing
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    const bad = (extra: object) =>
      ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, ...extra }));
    await expect(bad({ NetworkInterfaces: [{ DeviceIndex: 1, SubnetId: subnet }] })).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    await expectEc2Error(
      bad({ NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: "eni-12345678" }] }),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      bad({ SubnetId: subnet, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet }] }),
      "InvalidParameterCombination",
    );
    await expectEc2Error(
      bad({ TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "a", Value: "b" }] }] }),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      bad({ TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "aws:x", Value: "b" }] }] }),
      "InvalidParameterValue",
    );
    // A refused request launched nothing.
    const running = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }] }),
    );
    expect(running.Reservations!.flatMap((x) => x.Instances!)).toEqual([]);
  });

  it("creating VPC resources beyond the default is UnsupportedOperation, whatever the parameters", async () => {
    await expect(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }))).rejects.toMatchObject({
      name: "UnsupportedOperation",
      $metadata: { httpStatusCode: 400 },
    });
    await expect(ec2.send(new CreateSubnetCommand({ VpcId: "vpc-1", CidrBlock: "10.0.0.0/24" }))).rejects.toMatchObject(
      { name: "UnsupportedOperation" },
    );
  });
});
