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
