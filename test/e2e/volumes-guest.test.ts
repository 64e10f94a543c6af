/**
 * EBS on a real guest, on the built euca (QEMU under TCG, rootless networking), with
 * Debian's awscli: a volume made by the SC, attached to the running guest, which sees a
 * disk whose serial is the volume's id and writes a marker on it; detached (the guest lets
 * go), attached again at another device and read back — the bytes lived in the volume;
 * snapshotted while attached (held still on the node) and restored into a second volume
 * that holds what the first did at the snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE } from "../support/process";
import { run } from "../support/exec";
import { AWS, bannerSoon, startGuestCloud, stopGuestCloud, testGuest, type GuestCloud } from "../support/guest";
import { until } from "../support/until";
import { diskPort as disks } from "../support/disk-port";

const guest = testGuest();
const ready = (!!guest && existsSync(AWS)) || process.env.CI === "true";

describe.runIf(ready)("an EBS volume on a real guest", () => {
  let c: GuestCloud;
  let id = "";
  let ip = "";

  beforeAll(async () => {
    expect(guest, "the test guest is built by the global setup").toBeDefined();
    c = await startGuestCloud("euca-ebs-");
    const imp = await run(
      process.execPath,
      [BUNDLE, "image", "import", guest!.root, "--kernel", guest!.vmlinux, "--ramdisk", guest!.initrd, "--name", "ebs"],
      { env: c.env, timeoutMs: 300_000 },
    );
    expect(imp.status, imp.stderr).toBe(0);
    const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;
    await c.aws(
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
    id = (await c.aws("run-instances", "--image-id", emi, "--instance-type", "m1.small")).Instances[0].InstanceId;
    await until(
      async () =>
        (await c.aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name === "running",
      { timeoutMs: 120_000 },
    );
    ip = (await c.aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].PrivateIpAddress;
    (await bannerSoon(ip, 2224)).close(); // booted, its disk port listening
  }, 300_000);
  afterAll(() => stopGuestCloud(c));

  it("attach: the guest sees the volume by its id and writes on it; detach, attach again elsewhere, read it back", async () => {
    const vol: string = (await c.aws("create-volume", "--size", "1", "--availability-zone", "cluster1")).VolumeId;
    await until(async () => (await c.aws("describe-volumes", "--volume-ids", vol)).Volumes[0].State === "available");
    const before = await disks(ip);
    expect(before.listed.some((l) => l.includes(`serial=${vol}`))).toBe(false);
    before.close();

    const att = await c.aws("attach-volume", "--volume-id", vol, "--instance-id", id, "--device", "/dev/sdf");
    expect(att).toMatchObject({ VolumeId: vol, InstanceId: id, Device: "/dev/sdf", State: "attaching" });
    expect((await c.aws("describe-volumes", "--volume-ids", vol)).Volumes[0]).toMatchObject({
      State: "in-use",
      Attachments: [{ State: "attached", InstanceId: id }],
    });
    let s = await disks(ip);
    for (let i = 0; i < 50 && !s.listed.some((l) => l.includes(`serial=${vol}`)); i++) {
      s.close();
      await new Promise((r) => setTimeout(r, 200));
      s = await disks(ip);
    }
    expect(s.listed.find((l) => l.includes(`serial=${vol}`))).toMatch(
      new RegExp(`^DISK vd[b-z] serial=${vol} sectors=2097152$`),
    ); // 1 GiB
    expect(await s.ask(`write ${vol} marker-from-${id}`)).toBe(`WROTE ${vol}`);
    s.close();

    const det = await c.aws("detach-volume", "--volume-id", vol);
    expect(det.State).toBe("detaching");
    expect((await c.aws("describe-volumes", "--volume-ids", vol)).Volumes[0].State).toBe("available"); // the guest let go (DEVICE_DELETED)
    const gone = await disks(ip);
    expect(gone.listed.some((l) => l.includes(`serial=${vol}`))).toBe(false);
    gone.close();
    // The marker is in the volume's own file.
    expect(
      readFileSync(join(c.dir, "volumes", `${vol}.img`))
        .subarray(0, 64)
        .toString(),
    ).toContain(`marker-from-${id}`);

    await c.aws("attach-volume", "--volume-id", vol, "--instance-id", id, "--device", "/dev/sdg");
    let again = await disks(ip);
    for (let i = 0; i < 50 && !again.listed.some((l) => l.includes(`serial=${vol}`)); i++) {
      again.close();
      await new Promise((r) => setTimeout(r, 200));
      again = await disks(ip);
    }
    expect(await again.ask(`read ${vol}`)).toBe(`READ ${vol} marker-from-${id}`);

    // A snapshot while attached: the node holds the file still for the SC's copy (a qcow2
    // overlay over QMP), then merges back; what the guest writes after is not in it.
    expect(await again.ask(`write ${vol} before-the-snapshot`)).toBe(`WROTE ${vol}`);
    const snap: string = (await c.aws("create-snapshot", "--volume-id", vol, "--description", "while attached"))
      .SnapshotId;
    expect(await again.ask(`write ${vol} after-the-snapshot`)).toBe(`WROTE ${vol}`);
    await until(
      async () => (await c.aws("describe-snapshots", "--snapshot-ids", snap)).Snapshots[0].State === "completed",
      { timeoutMs: 60_000 },
    );
    expect((await c.aws("describe-snapshots", "--snapshot-ids", snap)).Snapshots[0]).toMatchObject({
      Progress: "100%",
      VolumeId: vol,
      VolumeSize: 1,
    });
    expect(
      readdirSync(join(c.dir, "instances"), { recursive: true }).some((f) => String(f).endsWith(".overlay.qcow2")),
    ).toBe(false); // merged and gone
    const copy: string = (await c.aws("create-volume", "--snapshot-id", snap, "--availability-zone", "cluster1"))
      .VolumeId;
    await until(async () => (await c.aws("describe-volumes", "--volume-ids", copy)).Volumes[0].State === "available", {
      timeoutMs: 60_000,
    });
    await c.aws("attach-volume", "--volume-id", copy, "--instance-id", id, "--device", "/dev/sdh");
    again.close();
    let both = await disks(ip);
    for (let i = 0; i < 50 && !both.listed.some((l) => l.includes(`serial=${copy}`)); i++) {
      both.close();
      await new Promise((r) => setTimeout(r, 200));
      both = await disks(ip);
    }
    expect(await both.ask(`read ${copy}`)).toBe(`READ ${copy} before-the-snapshot`);
    expect(await both.ask(`read ${vol}`)).toBe(`READ ${vol} after-the-snapshot`); // the guest's write after the freeze was merged back
    both.close();

    // Terminate detaches them: the volumes are available and can go.
    await c.aws("terminate-instances", "--instance-ids", id);
    for (const v of [vol, copy])
      await until(async () => (await c.aws("describe-volumes", "--volume-ids", v)).Volumes[0].State === "available", {
        timeoutMs: 30_000,
      });
    await c.aws("delete-volume", "--volume-id", copy);
    await c.aws("delete-snapshot", "--snapshot-id", snap);
    await c.aws("delete-volume", "--volume-id", vol);
    await until(
      async () =>
        ["deleted", undefined].includes((await c.aws("describe-volumes", "--volume-ids", vol)).Volumes[0]?.State),
      { timeoutMs: 30_000 },
    );
  });
});
