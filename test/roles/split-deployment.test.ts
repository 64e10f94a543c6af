/**
 * A site layout: CLC + Walrus in one process, CC + NC in another, joined by
 * `euca admin cluster register` and `euca admin component-key install`. The zone
 * table then comes over signed HTTP from the remote cluster.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { imageFile, makeUser, uploadBundle } from "../support/bundles";
import { main } from "../../src/cli/program";
import { startTestCloud, tempDir, unique } from "../support/cloud";
import { ec2Client } from "../support/ec2";

async function cli(args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, { env: {}, out: (t) => (out += t), err: (t) => (err += t) });
  if (code !== 0) throw new Error(`euca ${args.join(" ")} failed: ${err}`);
  return out;
}

describe("split roles over signed REST", () => {
  it("CLC lists a cluster registered in another process, with its capacity, and runs an instance there (image from the head's Walrus)", async () => {
    const ccDir = tempDir();
    const clcDir = tempDir();
    const head = await startTestCloud({ dataDir: clcDir, settings: { roles: ["clc", "walrus"] } });
    const cc = await startTestCloud({
      dataDir: ccDir,
      settings: { roles: ["cc", "nc"], clusterName: "ignored", walrusUrl: new URL(head.ec2Url).origin },
    });
    try {
      expect(cc.cloud.internal.cc).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(cc.cloud.internal.nc).toBeUndefined(); // the NC is called in-process by its CC
      const ec2 = ec2Client(head.ec2Url, head.admin);
      expect((await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones).toEqual([]);

      const keyFile = join(tempDir(), "zone2.key");
      await cli([
        "admin",
        "cluster",
        "register",
        "zone2",
        "--url",
        cc.cloud.internal.cc!,
        "--out",
        keyFile,
        "--data-dir",
        clcDir,
      ]);
      // Before the key is installed, the CC refuses the CLC's calls: the zone is unavailable.
      const before = await ec2.send(new DescribeAvailabilityZonesCommand({}));
      expect(before.AvailabilityZones?.map((z) => [z.ZoneName, z.State])).toEqual([["zone2", "unavailable"]]);
      // `cluster list` asks it too, and says why not.
      expect(await cli(["admin", "cluster", "list", "--data-dir", clcDir])).toMatch(
        /^zone2\s+http:\S+\s+unavailable \(.+\)\s+-\s+-\s+-\s+\S+$/m,
      );

      await cli(["admin", "component-key", "install", keyFile, "--data-dir", ccDir]);
      const after = await ec2.send(new DescribeAvailabilityZonesCommand({}));
      expect(after.AvailabilityZones?.map((z) => [z.ZoneName, z.State])).toEqual([["zone2", "available"]]);
      expect(await cli(["admin", "cluster", "list", "--data-dir", clcDir])).toMatch(
        /^zone2\s+http:\S+\s+available\s+1 up\s+\d+\/\d+\s+\d+\/\d+\s+\S+$/m,
      );
      const verbose = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }));
      expect(verbose.AvailabilityZones?.map((z) => z.State)).toContain("0004 / 0004   1    128     2");

      // The request id travelled: the CC logged the CLC's call with it (`cluster list`'s own are the CLI's).
      const ccCalls = cc
        .logs()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.api === "internal" && e.status === 200 && !String(e.requestId).startsWith("cli-"));
      const headIds = new Set(
        head
          .logs()
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).requestId),
      );
      expect(ccCalls.length).toBeGreaterThan(0);
      expect(ccCalls.every((e) => headIds.has(e.requestId))).toBe(true);

      // An instance runs there: its node fetched the image from the head's Walrus, signed with the cluster's key.
      const alice = await makeUser(head, unique("alice"));
      const user = ec2Client(head.ec2Url, alice);
      const location = await uploadBundle(head, alice, imageFile("root.img", 100_000));
      const imageId = (await user.send(new RegisterImageCommand({ ImageLocation: location, Name: "split" }))).ImageId!;
      const id = (await user.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))
        .Instances![0]!.InstanceId!;
      let state = "";
      for (let i = 0; i < 100 && state !== "running"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await user.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
          .State!.Name!;
      }
      expect(state).toBe("running");
      // A rule the head records is in force on the cluster's node when the call returns.
      await user.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupName: "default",
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "127.0.0.0/8" }] }],
        }),
      );
      const inst = (await user.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
        .Instances![0]!;
      const domain = JSON.parse(readFileSync(join(ccDir, "nc", "fake", "domains", `${id}.json`), "utf8")) as {
        forwards: Array<{ hostIp: string; port: number }>;
      };
      expect(domain.forwards.map((f) => `${f.hostIp}:${f.port}`).sort()).toEqual(
        [`${inst.PrivateIpAddress}:22`, `${inst.PublicIpAddress}:22`].sort(),
      );
      await user.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

      await cli(["admin", "cluster", "deregister", "zone2", "--data-dir", clcDir]);
      expect((await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones).toEqual([]);
    } finally {
      await head.stop();
      await cc.stop();
    }
  });
});
