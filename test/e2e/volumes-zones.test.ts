/**
 * The EBS story end to end on the built euca, Debian's awscli and two real QEMU guests in
 * two zones: the head (CLC, Walrus, and zone cluster1's CC, SC and NC) in one process; zone2's
 * CC and SC in a second and its node in a third, on another address (127.0.0.2) — so zone2's
 * SC serves its volumes to that node over NBD. A volume in cluster1 is written by guest 1
 * (attached as its file), snapshotted while attached; a volume made from the snapshot in
 * zone2 is attached to guest 2 over NBD and reads the marker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConnection } from "node:net";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE, readEucarc, startEuca, type EucaProcess } from "../support/process";
import { run } from "../support/exec";
import { AWS, bannerSoon, killGuestsUnder, testGuest } from "../support/guest";
import { tempDir } from "../support/cloud";
import { until } from "../support/until";

const guest = testGuest();
const ready = (!!guest && existsSync(AWS)) || process.env.CI === "true";

/** One exchange with the test guest's disk port: the lines it answered to `cmds` (after its disk list). */
function diskPort(host: string, cmds: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port: 2224 });
    let buf = "";
    const lines: string[] = [];
    let sent = false;
    sock.setEncoding("utf8");
    sock.setTimeout(20_000, () => sock.destroy(new Error("no answer")));
    sock.on("error", reject);
    sock.on("data", (d: string) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      if (!sent && lines.includes("END")) {
        sent = true;
        sock.write(cmds.join("\n") + "\n");
      }
      if (sent && lines.length - lines.indexOf("END") - 1 >= cmds.length) {
        sock.destroy();
        resolve(lines);
      }
    });
  });
}

describe.runIf(ready)(
  "a snapshot crosses zones, from a guest's file-attached volume to another guest's NBD one",
  () => {
    const dirs = { head: tempDir("euca-z1-"), zone: tempDir("euca-z2-"), node: tempDir("euca-z2n-") };
    const procs: EucaProcess[] = [];
    let env: NodeJS.ProcessEnv = {};
    let ec2Url = "";
    const aws = async (...args: string[]) => {
      const r = await run(AWS, ["--endpoint-url", ec2Url, "--output", "json", "ec2", ...args], {
        env,
        timeoutMs: 60_000,
      });
      if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    };
    const euca = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      const r = await run(process.execPath, [BUNDLE, ...args], {
        env: { PATH: process.env.PATH, ...extra },
        timeoutMs: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const port = () => 20000 + Math.floor(Math.random() * 20000);
    const common = ["--ec2-port", "0", "--s3-port", "0", "--node-poll-seconds", "0.5", "--qemu-accel", "tcg"];

    beforeAll(async () => {
      const head = await startEuca([
        "run",
        "--role",
        "clc,walrus,cc,sc,nc",
        "--data-dir",
        dirs.head,
        "--hypervisor",
        "qemu",
        ...common,
      ]);
      procs.push(head);
      ec2Url = head.ec2Url;
      const walrus = new URL(head.ec2Url).origin;
      const ccPort = port();
      const ncPort = port();
      procs.push(
        await startEuca([
          "run",
          "--role",
          "cc,sc",
          "--data-dir",
          dirs.zone,
          "--cluster-name",
          "zone2",
          "--cc-port",
          String(ccPort),
          "--vnet-subnet",
          "127.66.0.0/16",
          "--walrus-url",
          walrus,
          ...common,
        ]),
      );
      const zoneKey = join(dirs.zone, "zone2.key");
      await euca([
        "admin",
        "cluster",
        "register",
        "zone2",
        "--url",
        `http://127.0.0.1:${ccPort}`,
        "--out",
        zoneKey,
        "--data-dir",
        dirs.head,
      ]);
      await euca(["admin", "component-key", "install", zoneKey, "--data-dir", dirs.zone]);
      procs.push(
        await startEuca([
          "run",
          "--role",
          "nc",
          "--data-dir",
          dirs.node,
          "--host",
          "127.0.0.2",
          "--nc-port",
          String(ncPort),
          "--hypervisor",
          "qemu",
          "--walrus-url",
          walrus,
          ...common,
        ]),
      );
      const nodeKey = join(dirs.node, "n3.key");
      await euca([
        "admin",
        "node",
        "register",
        "n3",
        "--url",
        `http://127.0.0.2:${ncPort}`,
        "--out",
        nodeKey,
        "--data-dir",
        dirs.zone,
      ]);
      await euca(["admin", "component-key", "install", nodeKey, "--data-dir", dirs.node]);
      await euca(["admin", "component-key", "install", zoneKey, "--data-dir", dirs.node]); // images and metadata from the head, with the cluster's key
      const credDir = join(dirs.head, "credentials", "admin");
      const v = readEucarc(join(credDir, "eucarc"));
      env = {
        PATH: "/usr/bin:/bin",
        HOME: tempDir(),
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_PAGER: "",
        AWS_MAX_ATTEMPTS: "1",
        ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)])),
      };
      await until(
        async () =>
          (await aws("describe-availability-zones")).AvailabilityZones.some(
            (z: { ZoneName: string; State: string }) => z.ZoneName === "zone2" && z.State === "available",
          ),
        { timeoutMs: 30_000 },
      );
    }, 120_000);

    afterAll(async () => {
      for (const p of procs) p.child.kill("SIGKILL");
      for (const d of Object.values(dirs)) killGuestsUnder(d);
      await run("pkill", ["-f", `qemu-storage-daemon.*${dirs.zone}`], { timeoutMs: 5000 });
    });

    it("guest 1 writes on a volume in cluster1; its snapshot makes a volume in zone2 that guest 2 reads over NBD", async () => {
      const imp = await run(
        process.execPath,
        [
          BUNDLE,
          "image",
          "import",
          guest!.root,
          "--kernel",
          guest!.vmlinux,
          "--ramdisk",
          guest!.initrd,
          "--name",
          "zones",
        ],
        { env, timeoutMs: 300_000 },
      );
      expect(imp.status, imp.stderr).toBe(0);
      const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;
      await aws(
        "authorize-security-group-ingress",
        "--group-name",
        "default",
        "--protocol",
        "tcp",
        "--port",
        "2224",
        "--cidr",
        "127.0.0.0/8",
      );
      const launch = async (zone: string) => {
        const id: string = (
          await aws(
            "run-instances",
            "--image-id",
            emi,
            "--instance-type",
            "m1.small",
            "--placement",
            `AvailabilityZone=${zone}`,
          )
        ).Instances[0].InstanceId;
        await until(
          async () =>
            (await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name ===
            "running",
          { timeoutMs: 180_000 },
        );
        const ip: string = (await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0]
          .PrivateIpAddress;
        (await bannerSoon(ip, 2224)).close();
        return { id, ip };
      };
      const [g1, g2] = await Promise.all([launch("cluster1"), launch("zone2")]);
      expect(g2.ip).toMatch(/^127\.66\./);

      const vol: string = (await aws("create-volume", "--size", "1", "--availability-zone", "cluster1")).VolumeId;
      await until(async () => (await aws("describe-volumes", "--volume-ids", vol)).Volumes[0].State === "available");
      await aws("attach-volume", "--volume-id", vol, "--instance-id", g1.id, "--device", "/dev/sdf");
      await until(async () => (await diskPort(g1.ip, [])).some((l) => l.includes(`serial=${vol}`)));
      expect(await diskPort(g1.ip, [`write ${vol} from-cluster1`])).toContain(`WROTE ${vol}`);
      const snap: string = (await aws("create-snapshot", "--volume-id", vol, "--description", "to zone2")).SnapshotId;
      await until(
        async () => (await aws("describe-snapshots", "--snapshot-ids", snap)).Snapshots[0].State === "completed",
        { timeoutMs: 60_000 },
      );

      const copy: string = (await aws("create-volume", "--snapshot-id", snap, "--availability-zone", "zone2")).VolumeId;
      await until(async () => (await aws("describe-volumes", "--volume-ids", copy)).Volumes[0].State === "available", {
        timeoutMs: 60_000,
      });
      await aws("attach-volume", "--volume-id", copy, "--instance-id", g2.id, "--device", "/dev/sdf");
      await until(async () => (await diskPort(g2.ip, [])).some((l) => l.includes(`serial=${copy}`)));
      expect(await diskPort(g2.ip, [`read ${copy}`])).toContain(`READ ${copy} from-cluster1`);
      // Zone2's SC served it over NBD (its node is on another address), one daemon for the attachment.
      expect((await run("pgrep", ["-af", "qemu-storage-daemon"], { timeoutMs: 5000 })).stdout).toContain(
        `name=${copy}`,
      );
      // And an attachment across zones is refused: a volume lives in one zone.
      await expect(
        aws("attach-volume", "--volume-id", vol, "--instance-id", g2.id, "--device", "/dev/sdg"),
      ).rejects.toThrow(/InvalidParameterValue.*is in cluster1/);

      await aws("terminate-instances", "--instance-ids", g1.id, g2.id);
      for (const v of [vol, copy])
        await until(async () => (await aws("describe-volumes", "--volume-ids", v)).Volumes[0].State === "available", {
          timeoutMs: 30_000,
        });
      expect((await run("pgrep", ["-af", "qemu-storage-daemon"], { timeoutMs: 5000 })).stdout).not.toContain(
        `name=${copy}`,
      );
    }, 600_000); // two TCG boots, a snapshot and a restore: ~40 s alone, several times that on a loaded CI machine
  },
);
