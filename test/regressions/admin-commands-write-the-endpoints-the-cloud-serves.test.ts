/**
 * Regression (issue 9, finding 10): `euca admin user create` without port flags
 * rewrote the running admin's eucarc with the default ports (8773/8776) while the
 * cloud ran on others. Credentials now name the endpoints the cloud serves (recorded
 * by `euca run`), unless the command is told otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";

let p: EucaProcess;
let dir: string;
beforeAll(async () => {
  dir = tempDir();
  p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"]);
});
afterAll(async () => {
  p.child.kill("SIGTERM");
  await p.exited;
  rmSync(dir, { recursive: true, force: true });
});

const euca = (...args: string[]) =>
  run(process.execPath, [BUNDLE, ...args], { timeoutMs: 30_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });

describe("admin commands beside a running cloud", () => {
  it("keep the admin's eucarc and write new users' with the ports the cloud serves", async () => {
    await euca("admin", "user", "create", "carol", "--data-dir", dir);
    await euca("init", "--data-dir", dir);
    for (const user of ["admin", "carol"]) {
      const v = readEucarc(join(dir, "credentials", user, "eucarc"));
      expect([user, v.EC2_URL, v.S3_URL]).toEqual([user, p.ec2Url, p.s3Url]);
    }
    const printed = await euca("admin", "credentials", "--user", "carol", "--data-dir", dir);
    expect(printed.stdout).toContain(p.ec2Url);
  });

  it("name other endpoints when asked to", async () => {
    const printed = await euca("admin", "credentials", "--user", "admin", "--data-dir", dir, "--ec2-port", "9999");
    expect(printed.stdout).toContain("http://127.0.0.1:9999/services/Eucalyptus");
  });
});
