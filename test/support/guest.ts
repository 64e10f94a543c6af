/**
 * The tiny bootable guest (scripts/test-guest.sh), built once by the global setup when
 * QEMU is installed. Tests that boot real guests skip where QEMU is not.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import { chownSync } from "node:fs";
import { readEucarc, startEuca, type EucaProcess } from "./process";
import { tempDir } from "./cloud";
import { run } from "./exec";

/** Debian's awscli v2 (another aws on PATH may be another version). */
export const AWS = "/usr/bin/aws";

export const GUEST_DIR = process.env.EUCA_TEST_GUEST ?? "/var/tmp/euca-test-guest";

export interface TestGuest {
  /** ELF kernel (PVH entry: boots in ~2 s under TCG). */
  vmlinux: string;
  initrd: string;
  /** ext4 root whose init prints EUCA-INSTANCE-ID= and EUCA-USER-DATA= from the metadata service. */
  root: string;
}

export const qemuInstalled = (): boolean =>
  spawnSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }).status === 0;

export function testGuest(): TestGuest | undefined {
  if (!existsSync(join(GUEST_DIR, "complete"))) return undefined;
  return {
    vmlinux: join(GUEST_DIR, "vmlinux"),
    initrd: join(GUEST_DIR, "initrd.cpio.gz"),
    root: join(GUEST_DIR, "root.ext4"),
  };
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
export function bannerFrom(
  host: string,
  port: number,
): Promise<{ line: string; echo(text: string): Promise<string>; close(): void }> {
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
            echo: (text) =>
              new Promise((res) => {
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

/** The built euca running rootless QEMU guests, with Debian's awscli pointed at it. */
export interface GuestCloud {
  p: EucaProcess;
  dir: string;
  env: NodeJS.ProcessEnv;
  aws(...args: string[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The built euca with rootless QEMU guests (TCG), as root or as `as`; its data directory belongs to whoever runs it. */
export async function startGuestCloud(prefix: string, as?: { uid: number; gid: number }): Promise<GuestCloud> {
  const dir = tempDir(prefix);
  if (as) chownSync(dir, as.uid, as.gid);
  const p = await startEuca(
    [
      "run",
      "--data-dir",
      dir,
      "--ec2-port",
      "0",
      "--s3-port",
      "0",
      "--hypervisor",
      "qemu",
      "--qemu-accel",
      "tcg",
      "--node-poll-seconds",
      "0.5",
    ],
    as ? { HOME: dir } : {},
    as,
  );
  const credDir = join(dir, "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: tempDir(),
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
    ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)])),
  };
  return {
    p,
    dir,
    env,
    async aws(...args) {
      const r = await run(AWS, ["--endpoint-url", p.ec2Url, "--output", "json", "ec2", ...args], {
        env,
        timeoutMs: 60_000,
      });
      if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    },
  };
}

/** Stops euca and kills any guest it left (guests outlive their NC by design). */
export async function stopGuestCloud(c: GuestCloud | undefined): Promise<void> {
  if (!c) return;
  c.p.child.kill("SIGTERM");
  await c.p.exited;
  killGuestsUnder(c.dir);
}
