/**
 * SIGKILL the built euca (CLC, CC, SC and NC in one process, as `--role all` runs) at
 * moments of StopInstances, StartInstances and CreateImage of an EBS-backed instance: after
 * a restart every instance, volume and image settles in a truthful state — a guest runs
 * exactly for the instances that are running (none for a stopped one), every volume an
 * instance holds is the SC's and attached to it, no image stays pending and every available
 * image's snapshots are completed.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { readEucarc, startEuca, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { until } from "../support/until";
import { ec2Client } from "../support/ec2";

const args = (dir: string) => [
  "run",
  "--data-dir",
  dir,
  "--ec2-port",
  "0",
  "--s3-port",
  "0",
  "--hypervisor",
  "fake",
  "--node-poll-seconds",
  "0.2",
];
const SETTLING = ["pending", "stopping", "shutting-down"];

function ec2(p: EucaProcess, dir: string): EC2Client {
  const v = readEucarc(join(dir, "credentials/admin/eucarc"));
  return ec2Client(p.ec2Url, { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! });
}

describe("EBS-backed instances survive SIGKILL at each step of Stop, Start and CreateImage", () => {
  let p: EucaProcess | undefined;
  let dir = "";
  afterEach(async () => {
    p?.child.kill("SIGKILL");
    await p?.exited;
    p = undefined;
  });

  async function restart(): Promise<EC2Client> {
    p!.child.kill("SIGKILL");
    await p!.exited;
    p = await startEuca(args(dir));
    return ec2(p, dir);
  }

  /** What the cloud says once it has settled, checked against the node's guests and the SC's volumes. */
  async function truthful(c: EC2Client, instanceId: string): Promise<string> {
    let state = "";
    await until(
      async () => {
        const i = (await c.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!
          .Instances![0]!;
        state = i.State!.Name!;
        const images = (await c.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!;
        return !SETTLING.includes(state) && !images.some((x) => x.State === "pending");
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    const guest = existsSync(join(dir, "nc", "fake", "domains", `${instanceId}.json`));
    expect(guest, `a guest runs exactly when ${instanceId} is running (it is ${state})`).toBe(state === "running");
    // Every volume the instance holds is attached to it and is the SC's (none orphaned, none lost).
    const vols = (await c.send(new DescribeVolumesCommand({}))).Volumes!.filter((v) =>
      v.Attachments?.some((a) => a.InstanceId === instanceId),
    );
    expect(vols.length).toBeGreaterThanOrEqual(2);
    for (const v of vols) expect(v.State).toBe("in-use");
    const sc = new Database(join(dir, "sc.db"), { readonly: true });
    const stored = new Set((sc.prepare("SELECT id FROM volumes").all() as Array<{ id: string }>).map((r) => r.id));
    sc.close();
    for (const v of (await c.send(new DescribeVolumesCommand({}))).Volumes!)
      if (v.State !== "deleted") expect(stored.has(v.VolumeId!), `${v.VolumeId} is the SC's`).toBe(true);
    // Images: none pending; an available one names completed snapshots.
    for (const img of (await c.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!) {
      expect(["available", "failed"]).toContain(img.State);
      if (img.State !== "available") continue;
      const ids = img.BlockDeviceMappings!.flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
      const snaps = (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots!;
      expect(snaps.map((s) => s.State)).toEqual(ids.map(() => "completed"));
    }
    return state;
  }

  it("Stop, Start and CreateImage cut short at several moments end truthfully; the instance can go on", async () => {
    dir = tempDir("euca-ebs-kill-");
    p = await startEuca(args(dir));
    let c = ec2(p, dir);
    const vol = (await c.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
    await until(
      async () => (await c.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State === "available",
    );
    const snap = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await until(
      async () =>
        (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === "completed",
    );
    const emi = (
      await c.send(
        new RegisterImageCommand({
          Name: "crash",
          RootDeviceName: "/dev/sda1",
          BlockDeviceMappings: [
            { DeviceName: "/dev/sda1", Ebs: { SnapshotId: snap } },
            { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1 } },
          ],
        }),
      )
    ).ImageId!;
    const id = (await c.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId!;
    expect(await truthful(c, id)).toBe("running");

    const seen = new Set<string>();
    for (const delay of [0, 15, 60, 200]) {
      // Stop cut short.
      if ((await truthful(c, id)) !== "running") await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
      expect(await truthful(c, id)).toBe("running");
      void c.send(new StopInstancesCommand({ InstanceIds: [id] })).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      c = await restart();
      seen.add(`stop:${await truthful(c, id)}`);

      // Start cut short.
      if ((await truthful(c, id)) !== "stopped") await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
      expect(await truthful(c, id)).toBe("stopped");
      void c.send(new StartInstancesCommand({ InstanceIds: [id] })).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      c = await restart();
      seen.add(`start:${await truthful(c, id)}`);

      // CreateImage (stopping the instance for its copies) cut short.
      if ((await truthful(c, id)) !== "running") await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
      expect(await truthful(c, id)).toBe("running");
      void c.send(new CreateImageCommand({ InstanceId: id, Name: `crash-${delay}` })).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      c = await restart();
      seen.add(`image:${await truthful(c, id)}`);
    }
    // Whatever each cut left, the instance still stops and starts.
    if ((await truthful(c, id)) === "stopped") await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect(await truthful(c, id)).toBe("running");
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(await truthful(c, id)).toBe("stopped");
    expect(seen.size).toBeGreaterThan(1); // the kills landed at different moments
  }, 600_000);
});
