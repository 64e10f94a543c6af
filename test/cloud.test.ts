/** The composition root keeps no module state: two clouds in one process stay apart. */
import { describe, expect, it } from "vitest";
import { DescribeAvailabilityZonesCommand } from "@aws-sdk/client-ec2";
import { startTestCloud } from "./support/cloud";
import { ec2Client } from "./support/ec2";

describe("two clouds in one process", () => {
  it("have their own ports, users and zones; one's keys do not work on the other", async () => {
    const a = await startTestCloud();
    const b = await startTestCloud({ settings: { clusterName: "zone-b" } });
    try {
      const zones = async (url: string, creds: { accessKeyId: string; secretAccessKey: string }) =>
        (await ec2Client(url, creds).send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones?.map(
          (z) => z.ZoneName,
        );
      expect(await zones(a.ec2Url, a.admin)).toEqual(["cluster1"]);
      expect(await zones(b.ec2Url, b.admin)).toEqual(["zone-b"]);
      await expect(zones(b.ec2Url, a.admin)).rejects.toMatchObject({ name: "AuthFailure" });
      await a.stop();
      expect(await zones(b.ec2Url, b.admin)).toEqual(["zone-b"]);
    } finally {
      await a.stop().catch(() => {});
      await b.stop();
    }
  });
});
