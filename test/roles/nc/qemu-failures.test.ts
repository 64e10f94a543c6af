/**
 * Failure paths with real QEMU guests, through EC2: a kernel QEMU refuses, a guest whose
 * QEMU dies, and an instance whose kernel vanished from the node's cache before it started.
 * Each instance ends terminated with a reason, and no QEMU and no instance files are left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  EC2Client,
  DescribeInstancesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { adminUser, imageFile, uploadBundle } from "../../support/bundles";
import { killGuestsUnder, qemuPid, testGuest } from "../../support/guest";
import { ec2Client } from "../../support/ec2";

const guest = testGuest();
let t: TestCloud;
let ec2: EC2Client;
let images: { good: string; badKernel: string };

async function settle(id: string, until: (i: Instance) => boolean): Promise<Instance> {
  for (let k = 0; k < 300; k++) {
    const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    if (until(i)) return i;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} did not settle`);
}

function nothingLeft(id: string): void {
  expect(qemuPid(id)).toBeUndefined();
  const dir = t.cloud.layout.instancesDir;
  const left = existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.includes(id))
    : [];
  expect(left).toEqual([]);
  expect(existsSync(join(t.dataDir, "nc", "qemu", id))).toBe(false);
}

describe.skipIf(!guest)("real guests that fail", () => {
  beforeAll(async () => {
    t = await startTestCloud({ settings: { hypervisor: "qemu", qemuAccel: "tcg", walrusMaxBuckets: 0 } });
    const admin = adminUser(t);
    ec2 = ec2Client(t.ec2Url, t.admin);
    const reg = async (file: string, name: string) =>
      (await ec2.send(new RegisterImageCommand({ ImageLocation: await uploadBundle(t, admin, file), Name: name })))
        .ImageId!;
    // Named as ec2-bundle-image names them, so RegisterImage takes them for a kernel and a ramdisk.
    const named = (from: string, name: string) => {
      const to = join(tempDir(), name);
      copyFileSync(from, to);
      return to;
    };
    const kernel = await reg(named(guest!.vmlinux, "vmlinuz-pvh"), "vmlinuz");
    const ramdisk = await reg(named(guest!.initrd, "initrd.img"), "initrd");
    const junk = await reg(named(imageFile("junk", 100_000), "vmlinuz-junk"), "junk"); // not a kernel: QEMU refuses to load it
    const root = await uploadBundle(t, admin, guest!.root);
    const machine = async (k: string, name: string) =>
      (await ec2.send(new RegisterImageCommand({ ImageLocation: root, Name: name, KernelId: k, RamdiskId: ramdisk })))
        .ImageId!;
    images = { good: await machine(kernel, "tiny"), badKernel: await machine(junk, "tiny-junk-kernel") };
  }, 300_000);
  afterAll(async () => {
    await t?.stop();
    if (t) killGuestsUnder(t.dataDir);
  });

  const launch = async (imageId: string) =>
    (await ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId!;

  it("a kernel QEMU cannot load: terminated with QEMU's own message, nothing left", async () => {
    const id = await launch(images.badKernel);
    const i = await settle(id, (x) => x.State?.Name === "terminated");
    expect(i.StateReason?.Message).toMatch(/failed to start: QEMU failed to start/);
    nothingLeft(id);
  });

  it("a guest whose QEMU dies: terminated with the reason, nothing left", async () => {
    const id = await launch(images.good);
    await settle(id, (x) => x.State?.Name === "running");
    const pid = qemuPid(id)!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    const i = await settle(id, (x) => x.State?.Name === "terminated");
    expect(i.StateReason?.Message).toMatch(/QEMU process exited/);
    nothingLeft(id);
  });

  it("a kernel that does not exist is refused before anything starts", async () => {
    await expect(
      ec2.send(new RunInstancesCommand({ ImageId: images.good, KernelId: "eki-0BADC0DE", MinCount: 1, MaxCount: 1 })),
    ).rejects.toMatchObject({ name: "InvalidAMIID.NotFound" });
    // (A kernel file missing when QEMU starts is the driver's start-failed, test/hypervisor/qemu.test.ts.)
  });

  it("the instance keeps its own kernel and ramdisk, so evicting the node's cache cannot take them", async () => {
    const id = await launch(images.good);
    await settle(id, (x) => x.State?.Name === "running");
    const cache = join(t.dataDir, "nc", "cache");
    for (const f of readdirSync(cache)) rmSync(join(cache, f));
    const owner = readdirSync(t.cloud.layout.instancesDir).find((a) =>
      existsSync(join(t.cloud.layout.instancesDir, a, id)),
    )!;
    for (const f of ["kernel", "ramdisk", "root"])
      expect(readFileSync(join(t.cloud.layout.instancesDir, owner, id, f)).length).toBeGreaterThan(0);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await settle(id, (x) => x.State?.Name === "terminated");
    nothingLeft(id);
  });
});
