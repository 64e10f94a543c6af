/**
 * SIGKILL the built euca while a snapshot uploads and while a volume is restored from one;
 * after a restart the snapshot is in error (and every chunk only it had is gone from
 * Walrus), and the volume is made whole.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  EC2Client,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
} from "@aws-sdk/client-ec2";
import { readEucarc, startEuca, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { until } from "../support/until";
import { ec2Client } from "../support/ec2";

const MiB = 1024 * 1024;
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

function ec2(p: EucaProcess, dir: string): EC2Client {
  const v = readEucarc(join(dir, "credentials/admin/eucarc"));
  return ec2Client(p.ec2Url, { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! });
}
const volFile = (dir: string, vol: string) => join(dir, "volumes", `${vol}.img`);
function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, "r+");
  writeSync(fd, data, 0, data.length, offset);
  closeSync(fd);
}
function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}
/** The chunk objects in Walrus, and the chunks the SC counts. */
function chunks(dir: string): { inWalrus: string[]; counted: Array<{ sha256: string; refs: number }> } {
  const w = new Database(join(dir, "walrus.db"), { readonly: true });
  const inWalrus = (
    w
      .prepare(
        "SELECT key FROM objects WHERE bucket = 'euca-snapshots' AND key LIKE 'chunks/%' AND is_latest = 1 AND delete_marker = 0",
      )
      .all() as Array<{ key: string }>
  ).map((r) => r.key.split("/").pop()!);
  w.close();
  const s = new Database(join(dir, "sc.db"), { readonly: true });
  const counted = s.prepare("SELECT sha256, refs FROM chunks").all() as Array<{ sha256: string; refs: number }>;
  s.close();
  return { inWalrus: inWalrus.sort(), counted };
}

async function available(c: EC2Client, id: string) {
  await until(
    async () => (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!.State === "available",
    { timeoutMs: 30_000 },
  );
}

describe("EBS survives SIGKILL", () => {
  // A test that fails part way must not leave its euca running (or its data dir behind).
  const running: EucaProcess[] = [];
  const start = async (dir: string) => {
    const p = await startEuca(args(dir));
    running.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of running.splice(0)) p.child.kill("SIGKILL");
  });

  it("during a snapshot's upload: the snapshot ends in error and no chunk is left that no snapshot uses; one taken before stays whole", async () => {
    const dir = tempDir("euca-ebs-crash-");
    let p = await start(dir);
    let c = ec2(p, dir);
    const vol = (await c.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
    await available(c, vol);
    writeAt(volFile(dir, vol), 0, randomBytes(4 * MiB));
    const kept = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await until(
      async () =>
        (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [kept] }))).Snapshots![0]!.State === "completed",
      { timeoutMs: 30_000 },
    );
    const before = chunks(dir);
    expect(before.inWalrus.length).toBe(8);

    writeAt(volFile(dir, vol), 64 * MiB, randomBytes(256 * MiB)); // 512 new chunks: the upload takes a while
    const cut = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await new Promise((r) => setTimeout(r, 150));
    p.child.kill("SIGKILL");
    await p.exited;
    expect(chunks(dir).counted.length).toBeGreaterThan(8); // it was part way

    p = await start(dir);
    c = ec2(p, dir);
    await until(
      async () => (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [cut] }))).Snapshots![0]!.State === "error",
      { timeoutMs: 30_000 },
    );
    const after = chunks(dir);
    expect(after.inWalrus).toEqual(before.inWalrus);
    expect(after.counted.map((x) => x.sha256).sort()).toEqual(before.inWalrus);
    expect(after.counted.every((x) => x.refs === 1)).toBe(true);
    // The one that completed still makes a volume with its data.
    const again = (await c.send(new CreateVolumeCommand({ SnapshotId: kept, AvailabilityZone: "cluster1" }))).VolumeId!;
    await available(c, again);
    expect(
      createHash("sha256")
        .update(readAt(volFile(dir, again), 0, 4 * MiB))
        .digest("hex"),
    ).toBe(
      createHash("sha256")
        .update(readAt(volFile(dir, vol), 0, 4 * MiB))
        .digest("hex"),
    );
    p.child.kill("SIGTERM");
    await p.exited;
  });

  it("during a restore: after the restart the volume is made whole and available", async () => {
    const dir = tempDir("euca-ebs-crash-");
    let p = await start(dir);
    let c = ec2(p, dir);
    const vol = (await c.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
    await available(c, vol);
    const data = randomBytes(128 * MiB);
    writeAt(volFile(dir, vol), 0, data);
    const snap = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await until(
      async () =>
        (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === "completed",
      { timeoutMs: 60_000 },
    );
    const restored = (await c.send(new CreateVolumeCommand({ SnapshotId: snap, AvailabilityZone: "cluster1" })))
      .VolumeId!;
    await new Promise((r) => setTimeout(r, 100));
    p.child.kill("SIGKILL");
    await p.exited;

    p = await start(dir);
    c = ec2(p, dir);
    await available(c, restored);
    expect(readAt(volFile(dir, restored), 0, 128 * MiB).equals(data)).toBe(true);
    p.child.kill("SIGTERM");
    await p.exited;
  });
});
