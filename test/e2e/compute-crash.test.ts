/**
 * SIGKILL of the built euca during RunInstances: after a restart no instance is lost,
 * duplicated or stuck, capacity matches what runs, and addresses belong only to live
 * instances. A launch cut between the CLC's commit and the cluster is terminated.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { RunInstancesCommand, DescribeInstancesCommand, DescribeAvailabilityZonesCommand } from "@aws-sdk/client-ec2";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { ec2Client } from "../support/ec2";

const ports = ["--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"];

function client(p: EucaProcess, dir: string) {
  const v = readEucarc(join(dir, "credentials/admin/eucarc"));
  return ec2Client(p.ec2Url, { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! });
}

async function importImage(p: EucaProcess, dir: string): Promise<string> {
  const credDir = join(dir, "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  const env = {
    PATH: "/usr/bin:/bin",
    ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)])),
    EC2_URL: p.ec2Url,
    S3_URL: p.s3Url,
  };
  const file = join(tempDir(), "root.img");
  writeFileSync(file, randomBytes(200_000));
  const r = await run(process.execPath, [BUNDLE, "image", "import", file], { env, timeoutMs: 60_000 });
  return /IMAGE\t(\S+)/.exec(r.stdout)![1]!;
}

describe("compute survives SIGKILL", () => {
  it("no lost, duplicated or stuck instances, no leaked capacity or addresses", async () => {
    const dir = tempDir();
    let p = await startEuca(["run", "--data-dir", dir, ...ports]);
    const imageId = await importImage(p, dir);
    const ec2 = client(p, dir);
    // Launch a burst and kill the process while it is under way.
    const launches = Array.from({ length: 6 }, () =>
      ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })).catch(() => undefined),
    );
    await new Promise((r) => setTimeout(r, 15));
    p.child.kill("SIGKILL");
    await p.exited;
    await Promise.all(launches);

    // And a launch cut exactly between the CLC's commit and the cluster: a recorded pending instance nobody runs.
    const db = new Database(join(dir, "clc.db"));
    db.prepare(
      `INSERT INTO instances (id, reservation_id, account_id, image_id, instance_type, groups, state, launch_index, zone, private_ip, mac, launch_time)
      VALUES ('i-0DEAD001', 'r-0DEAD001', (SELECT account_id FROM users WHERE name = 'admin'), ?, 'm1.small', '[]', 'pending', 0, 'cluster1', '127.64.9.9', 'd0:0d:0d:ea:d0:01', ?)`,
    ).run(imageId, Date.now());
    db.prepare(
      "UPDATE addresses SET instance_id = 'i-0DEAD001', system = 1 WHERE public_ip = (SELECT public_ip FROM addresses WHERE instance_id IS NULL AND account_id IS NULL LIMIT 1)",
    ).run();
    db.close();

    p = await startEuca(["run", "--data-dir", dir, ...ports]);
    try {
      const c = client(p, dir);
      let all = (await c.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!);
      for (let i = 0; i < 100 && all.some((x) => x.State?.Name === "pending"); i++) {
        await new Promise((r) => setTimeout(r, 30));
        all = (await c.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!);
      }
      expect(all.every((x) => x.State?.Name === "running" || x.State?.Name === "terminated")).toBe(true);
      expect(new Set(all.map((x) => x.InstanceId)).size).toBe(all.length);
      expect(all.find((x) => x.InstanceId === "i-0DEAD001")?.State?.Name).toBe("terminated");
      const running = all.filter((x) => x.State?.Name === "running");
      // Capacity: the test node has the machine's cores; free m1.small slots + running = max.
      const zones = (await c.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }))).AvailabilityZones!;
      const small = zones.find((z) => z.ZoneName === "|- m1.small")!.State!.split(/\s+/);
      expect(Number(small[0]) + running.length).toBe(Number(small[2]));
      // Addresses: every assigned address belongs to a running instance.
      const cdb = new Database(join(dir, "clc.db"), { readonly: true });
      const assigned = (
        cdb.prepare("SELECT instance_id AS id FROM addresses WHERE instance_id IS NOT NULL").all() as Array<{
          id: string;
        }>
      ).map((r) => r.id);
      cdb.close();
      expect(assigned.sort()).toEqual(running.map((x) => x.InstanceId!).sort());
    } finally {
      p.child.kill("SIGTERM");
      await p.exited;
    }
  });
});
