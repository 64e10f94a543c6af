/**
 * The tiny bootable guest (scripts/test-guest.sh), built once by the global setup when
 * QEMU is installed. Tests that boot real guests skip where QEMU is not.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";

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

/**
 * Connects to the test guest's banner port (22 or 2222) and reads its first line, "SSH-2.0-euca-test-guest <instance id>";
 * the connection stays open, echoing what is sent. Refused: the error's code is ECONNREFUSED.
 */
export function bannerFrom(host: string, port: number): Promise<{ line: string; echo(text: string): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port });
    let buf = "";
    let waiter: ((line: string) => void) | undefined;
    const timer = setTimeout(() => sock.destroy(new Error(`no banner from ${host}:${port}`)), 15_000);
    sock.setEncoding("utf8");
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // QEMU accepts for the guest, then closes when the guest refuses (nothing listening yet).
    sock.on("close", () => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${host}:${port} closed before a banner`), { code: "NO_BANNER" }));
    });
    sock.on("data", (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        if (waiter) {
          const w = waiter;
          waiter = undefined;
          w(line);
        } else {
          clearTimeout(timer);
          resolve({
            line,
            echo: (text) => new Promise((res) => {
              waiter = res;
              sock.write(`${text}\n`);
            }),
            close: () => sock.destroy(),
          });
        }
      }
    });
  });
}

/** The banner once the guest listens (QEMU accepts before it does). */
export async function bannerSoon(host: string, port: number) {
  for (let i = 0; ; i++) {
    try {
      return await bannerFrom(host, port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "NO_BANNER" || i >= 100) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
