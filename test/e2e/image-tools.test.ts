/** `euca image import` (and bundle/upload/register) against a running euca, checked with Debian's awscli. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";

let p: EucaProcess;
let dir: string;
let work: string;
let adminEnv: NodeJS.ProcessEnv;

/** The environment `source eucarc` gives, with absolute key paths. */
function eucarcEnv(user: string): NodeJS.ProcessEnv {
  const credDir = join(dir, "credentials", user);
  const v = readEucarc(join(credDir, "eucarc"));
  const abs = (s: string) => s.replace("${EUCA_KEY_DIR}", credDir);
  return {
    PATH: "/usr/bin:/bin",
    HOME: work,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    ...Object.fromEntries(Object.entries(v).map(([k, val]) => [k, abs(val)])),
  };
}

const euca = (args: string[], env: NodeJS.ProcessEnv) =>
  run(process.execPath, [BUNDLE, ...args], { env, timeoutMs: 120_000 });

beforeAll(async () => {
  dir = tempDir();
  work = tempDir("euca-image-tools-");
  p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0"]);
  adminEnv = eucarcEnv("admin");
});
afterAll(async () => {
  p.child.kill("SIGTERM");
  await p.exited;
});

describe("euca image tools", () => {
  it("import with a kernel and a ramdisk prints eki, eri and emi; awscli sees them linked", async () => {
    for (const [name, size] of [
      ["vmlinuz", 300_000],
      ["initrd.img", 200_000],
      ["root.img", 1_200_000],
    ] as const)
      writeFileSync(join(work, name), randomBytes(size));
    const r = await euca(
      [
        "image",
        "import",
        join(work, "root.img"),
        "--kernel",
        join(work, "vmlinuz"),
        "--ramdisk",
        join(work, "initrd.img"),
        "--name",
        "tiny",
      ],
      adminEnv,
    );
    expect(r.status, r.stderr).toBe(0);
    const ids = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("\t") as [string, string]),
    );
    expect(ids.KERNEL).toMatch(/^eki-/);
    expect(ids.RAMDISK).toMatch(/^eri-/);
    expect(ids.IMAGE).toMatch(/^emi-/);
    expect(r.stderr).toMatch(/uploading to \d{12}-images: \d+ bytes/);
    if (existsSync("/usr/bin/aws")) {
      const d = await run(
        "/usr/bin/aws",
        ["--endpoint-url", p.ec2Url, "--output", "json", "ec2", "describe-images", "--image-ids", ids.IMAGE!],
        { env: adminEnv },
      );
      const img = JSON.parse(d.stdout).Images[0];
      expect([img.Name, img.KernelId, img.RamdiskId, img.ImageLocation]).toEqual([
        "tiny",
        ids.KERNEL,
        ids.RAMDISK,
        expect.stringMatching(/-images\/root\.img\.manifest\.xml$/),
      ]);
    }
  });

  it("bundle, upload (twice: the second run resumes), register as a new user", async () => {
    const user = `carol${process.pid}`;
    // The eucarc of a user made with the CLI carries the URLs of the given ports.
    const ports = ["--ec2-port", new URL(p.ec2Url).port, "--s3-port", new URL(p.s3Url).port];
    expect(
      (await euca(["admin", "user", "create", user, "--data-dir", dir, ...ports], { PATH: "/usr/bin:/bin" })).status,
    ).toBe(0);
    const env = eucarcEnv(user);
    writeFileSync(join(work, "data.img"), randomBytes(700_000));
    const b = await euca(["image", "bundle", join(work, "data.img"), "-d", join(work, "out")], env);
    expect(b.status, b.stderr).toBe(0);
    const manifest = b.stdout.trim();
    expect(readFileSync(manifest, "utf8")).toContain("<ec2_encrypted_key");
    const bucket = `${user}-bundles`;
    const u1 = await euca(["image", "upload", manifest, "-b", bucket], env);
    expect(u1.status, u1.stderr).toBe(0);
    const u2 = await euca(["image", "upload", manifest, "-b", bucket], env);
    expect(u2.stdout).toBe(u1.stdout);
    const reg = await euca(["image", "register", u1.stdout.trim(), "-n", "carols"], env);
    expect(reg.stdout).toMatch(/^IMAGE\temi-[0-9a-f]{8}\n$/);
    const kernel = await euca(["image", "import", join(work, "data.img"), "--kernel", join(work, "vmlinuz")], env);
    expect(kernel.status).toBe(1);
    expect(kernel.stderr).toContain("UnauthorizedOperation");
  });

  it("without a eucarc environment the tools say what is missing", async () => {
    const r = await euca(["image", "bundle", join(work, "root.img")], { PATH: "/usr/bin:/bin" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("source your eucarc");
  });
});
