/**
 * The tiny bootable guest (scripts/test-guest.sh), built once by the global setup when
 * QEMU is installed. Tests that boot real guests skip where QEMU is not.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

export const GUEST_DIR = process.env.EUCA_TEST_GUEST ?? "/var/tmp/euca-test-guest";

export interface TestGuest {
  /** ELF kernel (PVH entry: boots in ~2 s under TCG). */
  vmlinux: string;
  initrd: string;
  /** ext4 root whose init prints EUCA-INSTANCE-ID= and EUCA-USER-DATA= from the metadata service. */
  root: string;
}

export const qemuInstalled = (): boolean => spawnSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }).status === 0;

export function testGuest(): TestGuest | undefined {
  if (!existsSync(join(GUEST_DIR, "complete"))) return undefined;
  return { vmlinux: join(GUEST_DIR, "vmlinux"), initrd: join(GUEST_DIR, "initrd.cpio.gz"), root: join(GUEST_DIR, "root.ext4") };
}

/** The pid of the QEMU running `instanceId`, if any (QEMU is started with `-name <id>`). */
export function qemuPid(instanceId: string): number | undefined {
  const r = spawnSync("pgrep", ["-f", "--", `-name ${instanceId} `], { encoding: "utf8" });
  const pid = Number(r.stdout.trim().split("\n")[0]);
  return r.status === 0 && pid > 0 ? pid : undefined;
}

/** Guests outlive their NC by design (a restarted NC adopts them); a test's must not outlive the test. */
export function killGuestsUnder(dataDir: string): void {
  spawnSync("pkill", ["-KILL", "-f", "--", `qemu-system-x86_64 .*${dataDir}/`]);
}
