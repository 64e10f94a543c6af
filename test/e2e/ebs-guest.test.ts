/**
 * EBS-backed instances on a real guest, on the built euca (QEMU under TCG, rootless
 * networking), with Debian's awscli and the euca CLI: the test guest's root filesystem
 * imported as an EBS-backed image (`euca image import --ebs`: upload, ImportSnapshot,
 * RegisterImage); launched with a root 2 GiB larger than its snapshot and an extra empty
 * volume — the guest sees both by their ids (the root is the disk it booted from) and writes
 * a marker on its root; stopped (its QEMU process gone) and started again (same id and
 * private address, the marker still there, the metadata service naming the same instance);
 * an image made of it boots a second instance that reads the marker; terminated, the roots
 * go and the extra volume stays.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { BUNDLE } from "../support/process";
import { run } from "../support/exec";
import { diskPort } from "../support/disk-port";
import {
  AWS,
  bannerSoon,
  qemuPid,
  startGuestCloud,
  stopGuestCloud,
  testGuest,
  type GuestCloud,
} from "../support/guest";
import { until } from "../support/until";

const guest = testGuest();
const ready = (!!guest && existsSync(AWS)) || process.env.CI === "true";

describe.runIf(ready)("EBS-backed instances on a real guest", () => {
  let c: GuestCloud;
  let emi = "";

  const instance = async (id: string) =>
    (await c.aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];
  const inState = (id: string, state: string) =>
    until(async () => (await instance(id)).State.Name === state, { timeoutMs: 180_000, everyMs: 500 });
  /** The guest's disks (by serial), once its disk port answers with `want` among them. */
  async function disksOf(ip: string, want: string[]) {
    (await bannerSoon(ip, 2224)).close();
    for (let i = 0; ; i++) {
      const s = await diskPort(ip);
      if (want.every((v) => s.listed.some((l) => l.includes(`serial=${v}`))) || i > 50) return s;
      s.close();
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    expect(guest, "the test guest is built by the global setup").toBeDefined();
    c = await startGuestCloud("euca-ebs-root-");
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
        "--ebs",
        "--name",
        "ebs-root",
      ],
      { env: c.env, timeoutMs: 300_000 },
    );
    expect(imp.status, imp.stderr).toBe(0);
    emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;
    expect(imp.stdout).toMatch(/SNAPSHOT\tsnap-/);
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
  }, 300_000);
  afterAll(() => stopGuestCloud(c));

  it("boots from its root volume with a larger root and an extra volume; stop, start, create an image, terminate", async () => {
    const img = (await c.aws("describe-images", "--image-ids", emi)).Images[0];
    expect(img).toMatchObject({
      RootDeviceType: "ebs",
      RootDeviceName: "/dev/sda1",
      VirtualizationType: "paravirtual",
    });
    const mappings = JSON.stringify([
      { DeviceName: "/dev/sda1", Ebs: { VolumeSize: 3 } },
      { DeviceName: "/dev/sdf", Ebs: { VolumeSize: 1, DeleteOnTermination: false } },
    ]);
    const id: string = (
      await c.aws(
        "run-instances",
        "--image-id",
        emi,
        "--instance-type",
        "m1.small",
        "--block-device-mappings",
        mappings,
      )
    ).Instances[0].InstanceId;
    await inState(id, "running");
    const up = await instance(id);
    expect(up.RootDeviceType).toBe("ebs");
    const vol = (dev: string) =>
      (up.BlockDeviceMappings as Array<{ DeviceName: string; Ebs: { VolumeId: string } }>).find(
        (m) => m.DeviceName === dev,
      )!.Ebs.VolumeId;
    const root = vol("/dev/sda1");
    const extra = vol("/dev/sdf");
    const ip: string = up.PrivateIpAddress;

    // The guest booted from the root volume (3 GiB) and sees the extra one (1 GiB), each by its id.
    let s = await disksOf(ip, [root, extra]);
    expect(s.listed.find((l) => l.includes(`serial=${root}`))).toMatch(
      new RegExp(`^DISK vda serial=${root} sectors=6291456$`),
    );
    expect(s.listed.find((l) => l.includes(`serial=${extra}`))).toMatch(/sectors=2097152$/);
    // The root's first sector is unused by ext4: the marker lives there.
    expect(await s.ask(`write ${root} marker-of-${id}`)).toBe(`WROTE ${root}`);
    s.close();

    // Stop (forced: the test guest has no ACPI daemon): its QEMU process is gone, its volumes stay.
    await c.aws("stop-instances", "--instance-ids", id, "--force");
    await inState(id, "stopped");
    expect(qemuPid(id)).toBeUndefined();
    expect((await c.aws("describe-volumes", "--volume-ids", root)).Volumes[0].State).toBe("in-use");

    // Start: same id and private address; the marker is still on its root.
    await c.aws("start-instances", "--instance-ids", id);
    await inState(id, "running");
    expect((await instance(id)).PrivateIpAddress).toBe(ip);
    s = await disksOf(ip, [root]);
    expect(await s.ask(`read ${root}`)).toBe(`READ ${root} marker-of-${id}`);
    s.close();
    // The metadata service answers the started guest as the same instance (cloud-init's per-instance state holds).
    await until(
      async () =>
        Buffer.from((await c.aws("get-console-output", "--instance-id", id)).Output ?? "", "utf8")
          .toString()
          .includes(`EUCA-INSTANCE-ID=${id}`),
      { timeoutMs: 60_000, everyMs: 500 },
    );

    // An image of it (its volumes held still, the guest running on) boots a second instance that reads the marker.
    const made: string = (await c.aws("create-image", "--instance-id", id, "--name", "ebs-made", "--no-reboot"))
      .ImageId;
    await until(async () => (await c.aws("describe-images", "--image-ids", made)).Images[0].State === "available", {
      timeoutMs: 120_000,
      everyMs: 500,
    });
    const child: string = (await c.aws("run-instances", "--image-id", made, "--instance-type", "m1.small")).Instances[0]
      .InstanceId;
    await inState(child, "running");
    const kid = await instance(child);
    const childRoot = (kid.BlockDeviceMappings as Array<{ DeviceName: string; Ebs: { VolumeId: string } }>).find(
      (m) => m.DeviceName === "/dev/sda1",
    )!.Ebs.VolumeId;
    s = await disksOf(kid.PrivateIpAddress, [childRoot]);
    expect(await s.ask(`read ${childRoot}`)).toBe(`READ ${childRoot} marker-of-${id}`);
    s.close();

    // Terminated: the roots (DeleteOnTermination) go; the extra volume stays, available.
    await c.aws("terminate-instances", "--instance-ids", id, child);
    await inState(id, "terminated");
    await inState(child, "terminated");
    const gone = async (v: string) =>
      ["deleting", "deleted"].includes((await c.aws("describe-volumes", "--volume-ids", v)).Volumes[0].State);
    await until(async () => (await gone(root)) && (await gone(childRoot)), { timeoutMs: 60_000, everyMs: 500 });
    await until(async () => (await c.aws("describe-volumes", "--volume-ids", extra)).Volumes[0].State === "available", {
      timeoutMs: 60_000,
      everyMs: 500,
    });
  }, 900_000);
});
