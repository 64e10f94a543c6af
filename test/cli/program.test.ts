import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { main } from "../../src/cli/program";
import { tempDir } from "../support/cloud";

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let out = "";
  let err = "";
  const code = await main(args, { env, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe("euca command line", () => {
  it("--version and --help", async () => {
    expect(await cli(["--version"])).toMatchObject({ code: 0, out: "0.0.0-test\n" });
    const help = await cli(["run", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--role",
      "--data-dir",
      "--host",
      "--ec2-port",
      "--s3-port",
      "--web-port",
      "--hypervisor",
      "--log-level",
      "--config",
    ]) {
      expect(help.out).toContain(flag);
    }
  });

  it("an unknown flag or role exits 2 with the valid ones listed", async () => {
    const flag = await cli(["run", "--frobnicate"]);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("unknown option '--frobnicate'");
    expect(flag.err).toContain("--ec2-port");
    const role = await cli(["run", "--role", "clc,moon", "--data-dir", tempDir()]);
    expect(role).toMatchObject({ code: 2 });
    expect(role.err).toContain("valid roles: all, or a comma list of clc, cc, nc, walrus, sc");
    expect((await cli(["launch"])).code).toBe(2);
  });

  it("init is idempotent and writes the admin's credential set", async () => {
    const dir = tempDir();
    const first = await cli(["init", "--data-dir", dir]);
    expect(first.code).toBe(0);
    expect(first.out).toContain("admin credentials created");
    const eucarc = readFileSync(join(dir, "credentials/admin/eucarc"), "utf8");
    const second = await cli(["init", "--data-dir", dir]);
    expect(second.out).toContain("admin credentials refreshed");
    expect(readFileSync(join(dir, "credentials/admin/eucarc"), "utf8")).toBe(eucarc);
    for (const v of [
      "EC2_URL",
      "S3_URL",
      "EC2_ACCESS_KEY",
      "EC2_SECRET_KEY",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_DEFAULT_REGION",
      "EUCALYPTUS_CERT",
      "EC2_CERT",
      "EC2_PRIVATE_KEY",
      "EC2_USER_ID",
    ]) {
      expect(eucarc).toMatch(new RegExp(`^export ${v}=`, "m"));
    }
    expect(statSync(join(dir, "keys/cloud-pk.pem")).mode & 0o077).toBe(0);
    expect(statSync(join(dir, "credentials/admin/eucarc")).mode & 0o077).toBe(0);
    // The admin's first web password: printed by the init that made it, kept 0600, never printed again.
    const password = /first web password .*: (\S+)$/m.exec(first.out)![1]!;
    expect(readFileSync(join(dir, "web/admin-password"), "utf8").trim()).toBe(password);
    expect(statSync(join(dir, "web/admin-password")).mode & 0o777).toBe(0o600);
    expect(second.out).not.toContain("web password");
    expect(first.out).toContain("web interface certificate made");
    expect(statSync(join(dir, "web/server-pk.pem")).mode & 0o777).toBe(0o600);
    expect(second.out).not.toContain("certificate made");
  });

  it("admin user create, list, credentials in three formats, delete", async () => {
    const dir = tempDir();
    const created = await cli(["admin", "user", "create", "alice", "--data-dir", dir]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).toMatch(/created user alice \(account \d{12}\)/);
    expect(existsSync(join(dir, "credentials/alice/eucarc"))).toBe(true);
    const list = await cli(["admin", "user", "list", "--data-dir", dir]);
    expect(list.out).toMatch(/^admin\s+eucalyptus\s+\d{12}\s+yes/m);
    expect(list.out).toMatch(/^alice\s+alice\s+\d{12}\s+no/m);
    expect((await cli(["admin", "user", "create", "alice", "--data-dir", dir])).code).toBe(1);
    expect((await cli(["admin", "user", "create", "../evil", "--data-dir", dir])).err).toContain("is invalid");

    const eucarc = await cli(["admin", "credentials", "--user", "alice", "--data-dir", dir]);
    expect(eucarc.out).toContain(`export EC2_CERT='${join(dir, "credentials/alice")}/euca2-alice-`);
    const env = await cli(["admin", "credentials", "--user", "alice", "--format", "env", "--data-dir", dir]);
    expect(env.out).toMatch(/^AWS_ACCESS_KEY_ID=AKI[A-Z0-9]{17}$/m);
    const out = join(dir, "alice.aws");
    const aws = await cli([
      "admin",
      "credentials",
      "--user",
      "alice",
      "--format",
      "aws",
      "--out",
      out,
      "--data-dir",
      dir,
    ]);
    expect(aws.code).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/^\[euca-alice\]\naws_access_key_id = AKI/m);
    expect(statSync(out).mode & 0o077).toBe(0);
    expect((await cli(["admin", "credentials", "--user", "alice", "--format", "xml", "--data-dir", dir])).code).toBe(2);
    const zip = join(dir, "alice.zip");
    expect(
      (await cli(["admin", "credentials", "--user", "alice", "--format", "zip", "--out", zip, "--data-dir", dir])).code,
    ).toBe(0);
    const listing = execFileSync("unzip", ["-l", zip], { encoding: "utf8" });
    expect(listing).toContain("To setup the environment run: source /path/to/eucarc");
    for (const f of ["eucarc", "cloud-cert.pem", "aws-credentials"]) expect(listing).toContain(f);
    expect(listing).toMatch(/euca2-alice-[0-9a-f]{8}-pk\.pem/);
    expect(listing).toMatch(/euca2-alice-[0-9a-f]{8}-cert\.pem/);

    expect((await cli(["admin", "user", "delete", "admin", "--data-dir", dir])).code).toBe(1);
    expect((await cli(["admin", "user", "delete", "alice", "--data-dir", dir])).code).toBe(0);
    expect(existsSync(join(dir, "credentials/alice"))).toBe(false);
    expect((await cli(["admin", "user", "list", "--data-dir", dir])).out).not.toContain("alice");
  });

  it("admin vm-types list and set", async () => {
    const dir = tempDir();
    const list = await cli(["admin", "vm-types", "list", "--data-dir", dir]);
    expect(list.out).toMatch(/^m1\.small\s+1\s+128\s+2$/m);
    expect(list.out).toMatch(/^c1\.xlarge\s+4\s+2048\s+20$/m);
    expect(
      (
        await cli([
          "admin",
          "vm-types",
          "set",
          "m1.small",
          "--cpus",
          "1",
          "--memory",
          "256",
          "--disk",
          "5",
          "--data-dir",
          dir,
        ])
      ).code,
    ).toBe(0);
    expect((await cli(["admin", "vm-types", "list", "--data-dir", dir])).out).toMatch(/^m1\.small\s+1\s+256\s+5$/m);
    expect(
      (
        await cli([
          "admin",
          "vm-types",
          "set",
          "m1.small",
          "--cpus",
          "0",
          "--memory",
          "256",
          "--disk",
          "5",
          "--data-dir",
          dir,
        ])
      ).code,
    ).not.toBe(0);
  });
});
