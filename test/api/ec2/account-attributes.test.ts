/** DescribeAccountAttributes as tools read it before they act (Ansible, Terraform-style providers). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeAccountAttributesCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
let ec2: EC2Client;
beforeAll(async () => {
  t = await startTestCloud({ settings: { maxAddressesPerUser: 3 } });
  ec2 = ec2Client(t.ec2Url, await t.createUser(unique("u")));
});
afterAll(() => t.stop());

describe("DescribeAccountAttributes", () => {
  it("answers every attribute: both platforms, the account's default VPC, the address limit, what the zones hold", async () => {
    const r = await ec2.send(new DescribeAccountAttributesCommand({}));
    const attrs = Object.fromEntries(
      (r.AccountAttributes ?? []).map((a) => [a.AttributeName, a.AttributeValues?.map((v) => v.AttributeValue)]),
    );
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
    // The test node has 4 cores: four m1.small.
    expect(attrs).toEqual({
      "supported-platforms": ["EC2", "VPC"],
      "default-vpc": [vpc],
      "max-instances": ["4"],
      "max-elastic-ips": ["3"],
      "vpc-max-elastic-ips": ["3"],
      "vpc-max-security-groups-per-interface": ["5"],
    });
  });

  it("filters by AttributeName and refuses unknown names", async () => {
    const r = await ec2.send(
      new DescribeAccountAttributesCommand({ AttributeNames: ["default-vpc", "supported-platforms"] }),
    );
    expect(r.AccountAttributes?.map((a) => a.AttributeName)).toEqual(["supported-platforms", "default-vpc"]);
    await expectEc2Error(
      ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ["no-such" as "default-vpc"] })),
      "InvalidParameterValue",
    );
  });
});
