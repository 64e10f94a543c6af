/**
 * Real instances end to end on the built euca with --hypervisor qemu (TCG): the test
 * guest's root filesystem, kernel and ramdisk imported with `euca image import`, then
 * Debian's awscli runs an instance with user data and a key pair. The guest's own console
 * proves the rest: it booted, found its SSH key written into its root filesystem, and got
 * its instance id and user data from 169.254.169.254 (rootless QEMU networking, restricted
 * to that one forward). Reboot boots it again; terminate leaves no QEMU and no files.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BUNDLE } from "../support/process";
import { run } from "../support/exec";
import { AWS, qemuPid, startGuestCloud, stopGuestCloud, testGuest, type GuestCloud } from "../support/guest";

const guest = testGuest();
let c: GuestCloud;

const qemuRunning = (id: string) => qemuPid(id) !== undefined;

describe.skipIf(!guest || !existsSync(AWS))("a real guest on the built euca (QEMU, TCG)", () => {
  beforeAll(async () => {
    c = await startGuestCloud("euca-guest-");
  }, 120_000);
  afterAll(() => stopGuestCloud(c));

  const aws = (...args: string[]) => c.aws(...args);

  async function consoleUntil(id: string, re: RegExp, ms = 90_000): Promise<string> {
    const deadline = Date.now() + ms;
    let out = "";
    while (Date.now() < deadline) {
      out = (await aws("get-console-output", "--instance-id", id)).Output ?? "";
      if (re.test(out)) return out;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`console of ${id} never matched ${re}:\n${out}`);
  }

  it("import, run with user data and a key, metadata from inside the guest, reboot, terminate", async () => {
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
        "tiny",
      ],
      { env: c.env, timeoutMs: 300_000 },
    );
    expect(imp.status, imp.stderr).toBe(0);
    const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;

    await aws("create-key-pair", "--key-name", "guest-key");
    const run1 = await aws(
      "run-instances",
      "--image-id",
      emi,
      "--instance-type",
      "m1.small",
      "--key-name",
      "guest-key",
      "--user-data",
      "hello-from-the-user",
    );
    const id: string = run1.Instances[0].InstanceId;

    let state = "";
    let inst:
      | { State: { Name: string }; StateReason?: { Message: string }; Hypervisor?: string; VirtualizationType?: string }
      | undefined;
    for (let i = 0; i < 240 && state !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 500));
      inst = (await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];
      state = inst!.State.Name;
      if (state === "terminated") throw new Error(`the instance failed: ${inst!.StateReason?.Message}`);
    }
    expect(state).toBe("running");
    // What runs it, as EC2 reports it: QEMU under TCG here (kvm where it truly works), a full (hvm) guest.
    expect([inst!.Hypervisor, inst!.VirtualizationType]).toEqual([expect.stringMatching(/^(qemu|kvm)$/), "hvm"]);

    const out = await consoleUntil(id, /EUCA-GUEST-READY/);
    expect(out).toContain(`EUCA-INSTANCE-ID=${id}`);
    expect(out).toContain("EUCA-USER-DATA=hello-from-the-user");
    expect(out).toContain("EUCA-SSH-KEY ssh-rsa"); // written into its root filesystem by the NC
    expect(out).toContain("EUCA-OUTSIDE=blocked"); // nothing but the metadata forward is reachable from the guest
    expect(qemuRunning(id)).toBe(true);
    // Nothing is forwarded to the guest until its group opens a port (test/e2e/laptop-reach.test.ts), and the NC's log says so.
    expect(c.p.stderr()).toMatch(
      new RegExp(`"instanceId":"${id}","forwards":\\[\\].*no port is forwarded to the guest`),
    );
    const qemuCmd = execFileSync("ps", ["-o", "args=", "-p", String(qemuPid(id))], { encoding: "utf8" });
    expect(qemuCmd).toContain("-nodefaults");
    expect(qemuCmd).toContain("restrict=on");
    expect(qemuCmd).not.toContain("hostfwd");

    await aws("reboot-instances", "--instance-ids", id);
    const again = await consoleUntil(id, /EUCA-GUEST-READY[\s\S]*EUCA-GUEST-BOOTED[\s\S]*EUCA-GUEST-READY/);
    expect(again.match(/EUCA-INSTANCE-ID=/g)?.length).toBe(2);

    await aws("terminate-instances", "--instance-ids", id);
    for (let i = 0; i < 100 && qemuRunning(id); i++) await new Promise((r) => setTimeout(r, 100));
    expect(qemuRunning(id)).toBe(false);
    const instances = join(c.dir, "instances");
    const left = existsSync(instances)
      ? readdirSync(instances, { recursive: true })
          .map(String)
          .filter((f) => f.includes(id))
      : [];
    expect(left).toEqual([]);
    expect(readdirSync(join(c.dir, "nc", "qemu"))).toEqual([]);
  }, 400_000);
});
