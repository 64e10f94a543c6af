/**
 * SIGKILL the node controller of an instance (its node on another address than the SC, so
 * volumes reach it over NBD): AttachVolume fails clearly and leaves no export (no
 * qemu-storage-daemon) and no attachment; once the NC is back, the volume attaches to a
 * new instance there.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { BUNDLE, readEucarc, startEuca } from "../support/process";
import { run } from "../support/exec";
import { tempDir } from "../support/cloud";
import { until } from "../support/until";
import { imageFile } from "../support/bundles";
import { ec2Client, expectEc2Error } from "../support/ec2";

const daemonsFor = async (dir: string) =>
  (await run("pgrep", ["-af", "qemu-storage-daemon"], { timeoutMs: 5000 })).stdout
    .split("\n")
    .filter((l) => l.includes(dir));

describe("EBS survives a node controller's SIGKILL", () => {
  it("an attach to a dead node fails, leaving no export and no attachment; with the node back the volume attaches", async () => {
    const headDir = tempDir("euca-ebsn-");
    const nodeDir = tempDir("euca-ebsn-node-");
    const ncPort = 20000 + Math.floor(Math.random() * 20000);
    const head = await startEuca([
      "run",
      "--role",
      "clc,walrus,cc,sc",
      "--data-dir",
      headDir,
      "--ec2-port",
      "0",
      "--s3-port",
      "0",
      "--node-poll-seconds",
      "0.2",
    ]);
    const nodeArgs = [
      "run",
      "--role",
      "nc",
      "--data-dir",
      nodeDir,
      "--host",
      "127.0.0.2",
      "--nc-port",
      String(ncPort),
      "--hypervisor",
      "fake",
      "--ec2-port",
      "0",
      "--s3-port",
      "0",
      "--walrus-url",
      new URL(head.ec2Url).origin,
    ];
    let node = await startEuca(nodeArgs);
    const cli = (args: string[]) =>
      run(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
    const key = join(nodeDir, "n1.key");
    try {
      expect(
        (
          await cli([
            "admin",
            "node",
            "register",
            "n1",
            "--url",
            `http://127.0.0.2:${ncPort}`,
            "--out",
            key,
            "--data-dir",
            headDir,
          ])
        ).status,
      ).toBe(0);
      expect((await cli(["admin", "component-key", "install", key, "--data-dir", nodeDir])).status).toBe(0);
      const v = readEucarc(join(headDir, "credentials/admin/eucarc"));
      const ec2 = ec2Client(head.ec2Url, {
        accessKeyId: v.AWS_ACCESS_KEY_ID!,
        secretAccessKey: v.AWS_SECRET_ACCESS_KEY!,
      });
      const imp = await run(
        process.execPath,
        [BUNDLE, "image", "import", imageFile("root.img", 100_000), "--name", "n"],
        {
          env: {
            PATH: process.env.PATH,
            ...Object.fromEntries(
              Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", join(headDir, "credentials/admin"))]),
            ),
          },
          timeoutMs: 120_000,
        },
      );
      const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)?.[1];
      expect(emi, imp.stderr).toBeDefined();
      const inst = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!
        .InstanceId!;
      await until(
        async () =>
          (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!
            .State!.Name === "running",
        { timeoutMs: 30_000 },
      );
      const vol = (await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
      await until(
        async () =>
          (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State === "available",
      );

      node.child.kill("SIGKILL");
      await node.exited;
      // The node is gone: the cluster cannot reach it (503 Unavailable), not a refusal of the request.
      await expectEc2Error(
        ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: "/dev/sdf" })),
        "Unavailable",
      );
      const after = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!;
      expect(after.State).toBe("available");
      expect(after.Attachments).toEqual([]);
      expect(await daemonsFor(headDir)).toEqual([]); // the export for the failed attachment ended

      // The node back: its instances went with it (a node that does not report loses them, as in Eucalyptus); a new one takes the volume.
      node = await startEuca(nodeArgs);
      let next = "";
      await until(
        async () => {
          next =
            (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 })).catch(() => undefined))
              ?.Instances?.[0]?.InstanceId ?? "";
          return next !== ""; // once the node reports its capacity again
        },
        { timeoutMs: 30_000 },
      );
      await until(
        async () =>
          (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [next] }))).Reservations![0]!.Instances![0]!
            .State!.Name === "running",
        { timeoutMs: 30_000 },
      );
      await ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: next, Device: "/dev/sdf" }));
      expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]).toMatchObject({
        State: "in-use",
        Attachments: [{ State: "attached", InstanceId: next }],
      });
      expect((await daemonsFor(headDir)).join("\n")).toContain(`name=${vol}`); // served over NBD to the node at 127.0.0.2
    } finally {
      node.child.kill("SIGKILL");
      head.child.kill("SIGKILL");
      await run("pkill", ["-f", `qemu-storage-daemon.*${headDir}`], { timeoutMs: 5000 });
    }
  });
});
