/**
 * EBS across a site layout: CLC + Walrus in one process, two clusters (CC + SC + NC) in two
 * others, joined by registration and installed keys. A volume in one zone, its snapshot's
 * chunks in the head's Walrus (the SC signs with its cluster's key), a volume made from it in
 * the other zone by that zone's SC, with the same bytes.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
} from "@aws-sdk/client-ec2";
import { main } from "../../src/cli/program";
import { startTestCloud, tempDir } from "../support/cloud";
import { until } from "../support/until";
import { ec2Client } from "../support/ec2";

async function cli(args: string[]) {
  let err = "";
  const code = await main(args, { env: {}, out: () => undefined, err: (t) => (err += t) });
  if (code !== 0) throw new Error(`euca ${args.join(" ")} failed: ${err}`);
}

const MiB = 1024 * 1024;

describe("EBS across zones over signed REST", () => {
  it("a snapshot taken in one zone makes a volume in another", async () => {
    const headDir = tempDir();
    const head = await startTestCloud({ dataDir: headDir, settings: { roles: ["clc", "walrus"] } });
    const zones = await Promise.all(
      ["zone-a", "zone-b"].map(async (name) => {
        const dir = tempDir();
        const t = await startTestCloud({
          dataDir: dir,
          settings: { roles: ["cc", "sc", "nc"], clusterName: name, walrusUrl: new URL(head.ec2Url).origin },
        });
        const key = join(tempDir(), `${name}.key`);
        await cli([
          "admin",
          "cluster",
          "register",
          name,
          "--url",
          t.cloud.internal.cc!,
          "--out",
          key,
          "--data-dir",
          headDir,
        ]);
        await cli(["admin", "component-key", "install", key, "--data-dir", dir]);
        return { name, dir, t };
      }),
    );
    try {
      const ec2 = ec2Client(head.ec2Url, head.admin);
      const state = async (id: string) =>
        (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!.State;
      const vol = (await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "zone-a" }))).VolumeId!;
      await until(async () => (await state(vol)) === "available");
      const data = randomBytes(3 * MiB);
      const fa = openSync(join(zones[0]!.dir, "volumes", `${vol}.img`), "r+");
      writeSync(fa, data, 0, data.length, 7 * MiB);
      closeSync(fa);

      const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
      await until(
        async () =>
          (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === "completed",
        { timeoutMs: 30_000 },
      );
      const copy = (await ec2.send(new CreateVolumeCommand({ SnapshotId: snap, AvailabilityZone: "zone-b" })))
        .VolumeId!;
      await until(async () => (await state(copy)) === "available", { timeoutMs: 30_000 });
      expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [copy] }))).Volumes![0]).toMatchObject({
        AvailabilityZone: "zone-b",
        SnapshotId: snap,
        Size: 1,
      });
      const fb = openSync(join(zones[1]!.dir, "volumes", `${copy}.img`), "r");
      const back = Buffer.alloc(3 * MiB);
      readSync(fb, back, 0, back.length, 7 * MiB);
      closeSync(fb);
      expect(back.equals(data)).toBe(true);
    } finally {
      for (const z of zones) await z.t.stop();
      await head.stop();
    }
  });
});
