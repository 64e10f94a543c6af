/**
 * The compute issue's walk-through on the built euca (--hypervisor fake) with Debian's
 * awscli v2: import an image, run two instances with user data into a group, wait for
 * running, console output, metadata from an instance's address, an elastic address,
 * tags and filters, reboot, terminate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";

const AWS = "/usr/bin/aws";
let p: EucaProcess;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const dir = tempDir();
  p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"]);
  const credDir = join(dir, "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  env = {
    PATH: "/usr/bin:/bin",
    HOME: tempDir(),
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
    ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)])),
  };
});
afterAll(async () => {
  p.child.kill("SIGTERM");
  await p.exited;
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- awscli's JSON, read field by field
async function aws(...args: string[]): Promise<any> {
  const r = await run(AWS, ["--endpoint-url", p.ec2Url, "--output", "json", "ec2", ...args], {
    env,
    timeoutMs: 60_000,
  });
  if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

function metadata(path: string, from: string): Promise<string> {
  const u = new URL(p.ec2Url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path, localAddress: from }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve(b));
    })
      .on("error", reject)
      .end();
  });
}

describe.skipIf(!existsSync(AWS))("compute with Debian awscli v2 on the built euca", () => {
  it("import, run with user data into a group, running, console, metadata, address, tags, reboot, terminate", async () => {
    const dir = tempDir();
    for (const [f, n] of [
      ["vmlinuz", 100_000],
      ["initrd.img", 80_000],
      ["root.img", 400_000],
    ] as const)
      writeFileSync(join(dir, f), randomBytes(n));
    const imp = await run(
      process.execPath,
      [
        BUNDLE,
        "image",
        "import",
        join(dir, "root.img"),
        "--kernel",
        join(dir, "vmlinuz"),
        "--ramdisk",
        join(dir, "initrd.img"),
      ],
      { env, timeoutMs: 60_000 },
    );
    expect(imp.status, imp.stderr).toBe(0);
    const emi = /IMAGE\t(\S+)/.exec(imp.stdout)![1]!;

    await aws("create-security-group", "--group-name", "web", "--description", "web servers");
    await aws(
      "authorize-security-group-ingress",
      "--group-name",
      "web",
      "--protocol",
      "tcp",
      "--port",
      "80",
      "--cidr",
      "0.0.0.0/0",
    );
    await aws("create-key-pair", "--key-name", "mykey");
    const runOut = await aws(
      "run-instances",
      "--image-id",
      emi,
      "--count",
      "2",
      "--instance-type",
      "m1.small",
      "--key-name",
      "mykey",
      "--security-groups",
      "web",
      "--user-data",
      "hello from user data",
    );
    const ids: string[] = runOut.Instances.map((i: { InstanceId: string }) => i.InstanceId);
    expect(ids).toHaveLength(2);

    let instances: Array<{
      InstanceId: string;
      State: { Name: string };
      PrivateIpAddress: string;
      KernelId: string;
      SecurityGroups: Array<{ GroupName: string }>;
    }> = [];
    for (let i = 0; i < 60; i++) {
      instances = (await aws("describe-instances", "--instance-ids", ...ids)).Reservations.flatMap(
        (r: { Instances: unknown[] }) => r.Instances,
      );
      if (instances.every((x) => x.State.Name === "running")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(instances.map((x) => x.State.Name)).toEqual(["running", "running"]);
    expect(instances[0]!.KernelId).toMatch(/^eki-/);
    expect(instances[0]!.SecurityGroups.map((g) => g.GroupName)).toEqual(["web"]);

    const console = await aws("get-console-output", "--instance-id", ids[0]!);
    expect(console.Output).toContain(`${ids[0]} login:`); // awscli decodes the base64

    const ip = instances[0]!.PrivateIpAddress;
    expect(await metadata("/latest/meta-data/instance-id", ip)).toBe(ids[0]);
    expect(await metadata("/latest/user-data", ip)).toBe("hello from user data");
    expect(await metadata("/latest/meta-data/public-keys/0/openssh-key", ip)).toMatch(/^ssh-rsa /);

    const addr = await aws("allocate-address");
    await aws("associate-address", "--public-ip", addr.PublicIp, "--instance-id", ids[1]!);
    const withAddr = (await aws("describe-instances", "--instance-ids", ids[1]!)).Reservations[0].Instances[0];
    expect(withAddr.PublicIpAddress).toBe(addr.PublicIp);
    expect(await metadata("/latest/meta-data/public-ipv4", withAddr.PrivateIpAddress)).toBe(addr.PublicIp);

    await aws("create-tags", "--resources", ids[0]!, "--tags", "Key=Name,Value=web-1");
    const filtered = await aws(
      "describe-instances",
      "--filters",
      "Name=tag:Name,Values=web-1",
      "Name=instance-state-name,Values=running",
    );
    expect(
      filtered.Reservations.flatMap((r: { Instances: Array<{ InstanceId: string }> }) =>
        r.Instances.map((i) => i.InstanceId),
      ),
    ).toEqual([ids[0]]);

    await aws("reboot-instances", "--instance-ids", ids[0]!);
    expect((await aws("get-console-output", "--instance-id", ids[0]!)).Output).toContain("Restarting system");

    const term = await aws("terminate-instances", "--instance-ids", ...ids);
    expect(term.TerminatingInstances.map((x: { CurrentState: { Name: string } }) => x.CurrentState.Name)).toEqual([
      "terminated",
      "terminated",
    ]);
    await aws("release-address", "--public-ip", addr.PublicIp);
  });
});
