/**
 * Which acceleration QEMU can really use here. /dev/kvm existing proves little (a nested
 * or PVM host opens it and then runs guests twenty times slower than TCG, or aborts on an
 * MSR), so the probe boots a 512-byte guest under KVM and waits for it to print on its
 * serial port. Only then is KVM chosen.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Accel } from "./args";

export const PROBE_MARKER = "EUCA-KVM-OK";

/**
 * A boot sector (16-bit real mode, loaded at 0x7c00) that writes PROBE_MARKER to COM1 and halts:
 *   xor ax,ax / mov ds,ax / mov si,msg / mov dx,0x3f8 / l: lodsb / test al,al / jz h / out dx,al / jmp l / h: hlt / jmp h
 */
export function probeBootSector(): Buffer {
  const code = [
    0x31, 0xc0, 0x8e, 0xd8, 0xbe, 0x15, 0x7c, 0xba, 0xf8, 0x03, 0xac, 0x84, 0xc0, 0x74, 0x03, 0xee, 0xeb, 0xf8, 0xf4,
    0xeb, 0xfd,
  ];
  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector, 0);
  Buffer.from(`${PROBE_MARKER}\r\n\0`, "latin1").copy(sector, code.length);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** Boots the probe sector with `accel`: ms until it printed, or undefined if it did not within the time allowed. */
export async function probeBoot(binary: string, accel: Accel, timeoutMs = 4000): Promise<number | undefined> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "euca-accel-"));
  const serial = join(dir, "serial.log");
  writeFileSync(join(dir, "probe.img"), probeBootSector());
  // Under coreutils' timeout: the probe guest halts forever, and if this process dies
  // mid-probe (killed during start-up) nothing else would ever stop it.
  const child = spawn(
    "timeout",
    [
      "-s",
      "KILL",
      String(Math.ceil(timeoutMs / 1000) + 1),
      binary,
      "-nodefaults",
      "-no-user-config",
      "-accel",
      accel,
      ...(accel === "kvm" ? ["-cpu", "host"] : []),
      "-m",
      "16",
      "-drive",
      `file=${join(dir, "probe.img")},format=raw,if=ide`,
      "-display",
      "none",
      "-monitor",
      "none",
      "-nic",
      "none",
      "-serial",
      `file:${serial}`,
      "-no-reboot",
    ],
    { stdio: "ignore" },
  );
  let exited = false;
  child.on("exit", () => (exited = true));
  child.on("error", () => (exited = true));
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(serial) && readFileSync(serial, "latin1").includes(PROBE_MARKER)) return Date.now() - started;
      if (exited) return undefined; // QEMU gave up (an MSR it cannot set, no KVM)
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  } finally {
    child.kill("SIGTERM"); // timeout passes it on to QEMU (SIGKILL would orphan QEMU)
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * KVM when /dev/kvm opens and the probe guest runs under it at least about as fast as under
 * TCG. On a PVM host (these CI machines) the probe does print under KVM, but through an
 * instruction emulator ten times slower than TCG, and real kernels then crawl or abort.
 */
export async function chooseAccel(binary: string): Promise<{ accel: Accel; why: string }> {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return { accel: "tcg", why: "no usable /dev/kvm" };
  }
  const tcg = await probeBoot(binary, "tcg");
  const kvm = await probeBoot(binary, "kvm");
  if (kvm === undefined) return { accel: "tcg", why: "/dev/kvm is present but a probe guest did not run under it" };
  if (tcg !== undefined && kvm > 2 * tcg + 50)
    return {
      accel: "tcg",
      why: `a probe guest ran under KVM ${kvm} ms but under TCG ${tcg} ms (KVM is emulated here)`,
    };
  return { accel: "kvm", why: `a probe guest ran under KVM in ${kvm} ms` };
}
