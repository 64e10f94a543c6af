/**
 * Regression: `DryRun=true` was accepted and ignored, so `aws ec2 delete-volume --dry-run`
 * (or terminate-instances, or an Ansible check) did the work for real. EC2 checks such a
 * request and answers `DryRunOperation` (412) without carrying it out; euca now does too,
 * for every action that takes the parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DeleteSecurityGroupCommand,
  DeleteVolumeCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let ec2: EC2Client;

beforeAll(async () => {
  t = await startTestCloud();
  ec2 = ec2Client(t.cloud.endpoints.ec2Url, t.admin);
});
afterAll(() => t?.stop());

const dryRun = (p: Promise<unknown>) =>
  expect(p).rejects.toMatchObject({
    name: "DryRunOperation",
    message: "Request would have succeeded, but DryRun flag is set.",
    $metadata: { httpStatusCode: 412 },
  });

describe("DryRun", () => {
  it("creates nothing and deletes nothing", async () => {
    const volumes = async () => (await ec2.send(new DescribeVolumesCommand({}))).Volumes?.length ?? 0;
    const before = await volumes();
    await dryRun(ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1", DryRun: true })));
    expect(await volumes()).toBe(before);
    const vol = await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }));
    await dryRun(ec2.send(new DeleteVolumeCommand({ VolumeId: vol.VolumeId, DryRun: true })));
    const still = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }));
    expect(still.Volumes?.[0]?.State).not.toBe("deleting");

    const name = unique("dry");
    await dryRun(ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "d", DryRun: true })));
    const listed = await ec2.send(new DescribeSecurityGroupsCommand({}));
    expect(listed.SecurityGroups?.some((g) => g.GroupName === name)).toBe(false);
    const made = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "d" }));
    await dryRun(ec2.send(new DeleteSecurityGroupCommand({ GroupId: made.GroupId, DryRun: true })));
    const kept = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [made.GroupId!] }));
    expect(kept.SecurityGroups).toHaveLength(1);
  });

  it("answers a describe the same way, and DryRun=false does the work", async () => {
    await dryRun(ec2.send(new DescribeVolumesCommand({ DryRun: true })));
    const made = await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1", DryRun: false }));
    expect(made.VolumeId).toMatch(/^vol-/);
  });
});
