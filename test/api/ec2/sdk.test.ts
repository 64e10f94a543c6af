import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeAvailabilityZonesCommand, DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { EXPECTED_VERBOSE, VERBOSE_NODE, startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { ec2Client, expectEc2Error } from "../../support/ec2";

let t: TestCloud;
const client = (creds: { accessKeyId: string; secretAccessKey: string }, endpoint = t.ec2Url) =>
  ec2Client(endpoint, creds);

beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

describe("EC2 with @aws-sdk/client-ec2", () => {
  it("DescribeRegions lists the cloud's region, Walrus, Tokens (STS) and Euare (IAM) with their URLs", async () => {
    const out = await client(t.admin).send(new DescribeRegionsCommand({}));
    const origin = new URL(t.cloud.endpoints.ec2Url).origin;
    expect(out.Regions).toEqual([
      { RegionName: "eucalyptus", Endpoint: t.cloud.endpoints.ec2Url, OptInStatus: "opt-in-not-required" },
      { RegionName: "Walrus", Endpoint: t.cloud.endpoints.walrusUrl, OptInStatus: "opt-in-not-required" },
      { RegionName: "Tokens", Endpoint: `${origin}/services/Tokens`, OptInStatus: "opt-in-not-required" },
      { RegionName: "Euare", Endpoint: `${origin}/services/Euare`, OptInStatus: "opt-in-not-required" },
    ]);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("DescribeRegions filters by name and refuses an unknown region", async () => {
    const out = await client(t.admin).send(
      new DescribeRegionsCommand({ Filters: [{ Name: "region-name", Values: ["Wal*"] }] }),
    );
    expect(out.Regions?.map((r) => r.RegionName)).toEqual(["Walrus"]);
    await expectEc2Error(
      client(t.admin).send(new DescribeRegionsCommand({ RegionNames: ["us-east-1"] })),
      "InvalidParameterValue",
    );
  });

  it("DescribeAvailabilityZones lists the local cluster", async () => {
    const out = await client(t.admin).send(new DescribeAvailabilityZonesCommand({}));
    expect(out.AvailabilityZones).toEqual([
      {
        ZoneName: "cluster1",
        ZoneId: "cluster1",
        State: "available",
        RegionName: "eucalyptus",
        ZoneType: "availability-zone",
        Messages: [],
      },
    ]);
  });

  it("DescribeAvailabilityZones by name and filter; unknown zone is InvalidParameterValue", async () => {
    const named = await client(t.admin).send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["cluster1"] }));
    expect(named.AvailabilityZones).toHaveLength(1);
    const none = await client(t.admin).send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["unavailable"] }] }),
    );
    expect(none.AvailabilityZones).toEqual([]);
    await expectEc2Error(
      client(t.admin).send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["nowhere"] })),
      "InvalidParameterValue",
    );
    await expectEc2Error(
      client(t.admin).send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "colour", Values: ["x"] }] })),
      "InvalidParameterValue",
    );
  });

  it("admin verbose shows Eucalyptus' free/max table from the node's capacity", async () => {
    const out = await client(t.admin).send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }));
    const rows = out.AvailabilityZones!.map((z) => [z.ZoneName, z.State]);
    expect(rows).toEqual([...EXPECTED_VERBOSE, [VERBOSE_NODE[0], expect.stringMatching(VERBOSE_NODE[1])]]);
  });

  it("a user who is not admin gets the plain list for verbose", async () => {
    const user = await t.createUser(unique("plain"));
    const out = await client(user).send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }));
    expect(out.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(["cluster1"]);
  });

  it("a wrongly signed call is AuthFailure (401) and the server keeps serving", async () => {
    const bad = client({ accessKeyId: t.admin.accessKeyId, secretAccessKey: "wrong" + t.admin.secretAccessKey });
    await expect(bad.send(new DescribeRegionsCommand({}))).rejects.toMatchObject({
      name: "AuthFailure",
      $metadata: { httpStatusCode: 401 },
    });
    const ok = await client(t.admin).send(new DescribeRegionsCommand({}));
    expect(ok.Regions).toHaveLength(4);
  });

  it("answers on /services/compute too", async () => {
    const out = await client(t.admin, t.ec2Url.replace("/services/Eucalyptus", "/services/compute")).send(
      new DescribeRegionsCommand({}),
    );
    expect(out.Regions).toHaveLength(4);
  });
});
