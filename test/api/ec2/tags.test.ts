import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeTagsCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  CreateKeyPairCommand,
  DescribeKeyPairsCommand,
  DeleteSecurityGroupCommand,
} from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import type { Creds } from "../../support/s3";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let alice: Creds;
let bob: Creds;
const ec2 = (c: Creds) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud();
  alice = await t.createUser(unique("alice"));
  bob = await t.createUser(unique("bob"));
});
afterAll(() => t.stop());

describe("tags", () => {
  it("create, overwrite, describe with filters, tag:* filters and tagSet on groups and key pairs, delete", async () => {
    const { GroupId } = await ec2(alice).send(
      new CreateSecurityGroupCommand({ GroupName: unique("web"), Description: "w" }),
    );
    const { KeyPairId } = await ec2(alice).send(new CreateKeyPairCommand({ KeyName: unique("kp") }));
    await ec2(alice).send(
      new CreateTagsCommand({
        Resources: [GroupId!, KeyPairId!],
        Tags: [
          { Key: "Name", Value: "web" },
          { Key: "env", Value: "" },
        ],
      }),
    );
    await ec2(alice).send(new CreateTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "Name", Value: "frontend" }] }));
    const all = await ec2(alice).send(new DescribeTagsCommand({}));
    expect(all.Tags?.map((x) => [x.ResourceId, x.ResourceType, x.Key, x.Value])).toEqual(
      expect.arrayContaining([
        [GroupId, "security-group", "Name", "frontend"],
        [GroupId, "security-group", "env", ""],
        [KeyPairId, "key-pair", "Name", "web"],
      ]),
    );
    const named = await ec2(alice).send(
      new DescribeTagsCommand({
        Filters: [
          { Name: "resource-type", Values: ["key-pair"] },
          { Name: "key", Values: ["Name"] },
        ],
      }),
    );
    expect(named.Tags?.map((x) => x.ResourceId)).toEqual([KeyPairId]);
    const groups = await ec2(alice).send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:Name", Values: ["front*"] }] }),
    );
    expect(groups.SecurityGroups?.map((g) => [g.GroupId, g.Tags?.find((x) => x.Key === "Name")?.Value])).toEqual([
      [GroupId, "frontend"],
    ]);
    const keys = await ec2(alice).send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: "tag-key", Values: ["env"] }] }),
    );
    expect(keys.KeyPairs?.map((k) => k.KeyPairId)).toEqual([KeyPairId]);
    await ec2(alice).send(
      new DeleteTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "Name", Value: "not-the-value" }] }),
    );
    expect(
      (await ec2(alice).send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [GroupId!] }] }))).Tags,
    ).toHaveLength(2);
    await ec2(alice).send(new DeleteTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "Name" }] }));
    expect(
      (
        await ec2(alice).send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [GroupId!] }] }))
      ).Tags?.map((x) => x.Key),
    ).toEqual(["env"]);
    await ec2(alice).send(new DeleteSecurityGroupCommand({ GroupId }));
    expect(
      (await ec2(alice).send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [GroupId!] }] }))).Tags,
    ).toEqual([]);
  });

  it("another account's resources, unknown ids, reserved keys and too many tags are refused", async () => {
    const { GroupId } = await ec2(alice).send(
      new CreateSecurityGroupCommand({ GroupName: unique("mine"), Description: "m" }),
    );
    await expectEc2Error(
      ec2(bob).send(new CreateTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "x", Value: "y" }] })),
      "InvalidGroup.NotFound",
    );
    await expectEc2Error(
      ec2(alice).send(new CreateTagsCommand({ Resources: ["i-12345678"], Tags: [{ Key: "x", Value: "y" }] })),
      "InvalidInstanceID.NotFound",
    );
    await expectEc2Error(
      ec2(alice).send(new CreateTagsCommand({ Resources: ["bogus-1"], Tags: [{ Key: "x", Value: "y" }] })),
      "InvalidID",
    );
    await expectEc2Error(
      ec2(alice).send(new CreateTagsCommand({ Resources: [GroupId!], Tags: [{ Key: "aws:thing", Value: "y" }] })),
      "InvalidParameterValue",
    );
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    await expect(ec2(alice).send(new CreateTagsCommand({ Resources: [GroupId!], Tags: many }))).rejects.toMatchObject({
      name: "InvalidParameterValue",
    });
    expect(
      (await ec2(alice).send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [GroupId!] }] }))).Tags,
    ).toEqual([]);
  });
});
