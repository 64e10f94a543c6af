/**
 * The first thing an EC2 user does, on the built euca (`euca run`, QEMU under TCG, rootless
 * networking): run an instance, authorize SSH with Debian's awscli, connect to the address
 * describe-instances reports. The test guest answers port 22 with an SSH version line that
 * names its instance, so each connection proves which guest it reached. Closed by default,
 * open at the private and the launch public address once authorized, moved by an elastic
 * address, closed by revoke, gone with terminate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { bannerFrom, bannerSoon, killGuestsUnder, qemuPid, testGuest } from "../support/guest";

const AWS = "/usr/bin/aws";
const guest = testGuest();
let p: EucaProcess;
let dir: string;
let env: NodeJS.ProcessEnv;

/** How a connection to host:22 ends: the guest's banner line, or the error's code. */
async function reach(host: string): Promise<string> {
  try {
    const b = await bannerFrom(host, 22);
    b.close();
    return b.line;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

describe.skipIf(!guest || !existsSync(AWS))("reaching a laptop cloud's instance at the address EC2 reports", () => {
  beforeAll(async () => {
    dir = tempDir("euca-reach-");
    p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "qemu", "--qemu-accel", "tcg", "--node-poll-seconds", "0.5"]);
    const credDir = join(dir, "credentials", "admin");
    const v = readEucarc(join(credDir, "eucarc"));
    env = {
      PATH: "/usr/bin:/bin", HOME: tempDir(), AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_PAGER: "", AWS_MAX_ATTEMPTS: "1",
      ...Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)])),
    };
  }, 120_000);
  afterAll(async () => {
    p?.child.kill("SIGTERM");
    await p?.exited;
    if (dir) killGuestsUnder(dir);
  });

  async function aws(...args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await run(AWS, ["--endpoint-url", p.ec2Url, "--output", "json", "ec2", ...args], { env, timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`aws ec2 ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  it("euca run says how to reach an instance", () => {
    expect(p.stdout()).toContain("ec2 authorize-security-group-ingress --group-name default --protocol tcp --port 22 --cidr 127.0.0.0/8");
    expect(p.stdout()).toContain("ssh -i KEY.pem root@PRIVATE-OR-PUBLIC-IP");
  });

  it("closed until authorized; the private and public address reach the guest; an elastic address moves it; revoke and terminate close it", async () => {
    const imp = await run(process.execPath, [BUNDLE, "image", "import", guest!.root, "--kernel", guest!.vmlinux, "--ramdisk", guest!.initrd, "--name", "reach"], { env, timeoutMs: 300_000 });
    expect(imp.status, imp.stderr).toBe(0);
    const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;
    const id: string = (await aws("run-instances", "--image-id", emi, "--instance-type", "m1.small")).Instances[0].InstanceId;
    let inst: { State: { Name: string }; PrivateIpAddress: string; PublicIpAddress?: string; PublicDnsName?: string; StateReason?: { Message: string } } | undefined;
    for (let i = 0; i < 240 && inst?.State.Name !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 500));
      inst = (await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];
      if (inst!.State.Name === "terminated") throw new Error(`the instance failed: ${inst!.StateReason?.Message}`);
    }
    const priv = inst!.PrivateIpAddress;
    const pub = inst!.PublicIpAddress!;
    expect(priv).toMatch(/^127\.64\./);
    expect(pub).toMatch(/^127\.65\./);
    expect(inst!.PublicDnsName).toBe(pub);

    // The default group is closed, as EC2's is.
    expect(await reach(priv)).toBe("ECONNREFUSED");
    expect(await reach(pub)).toBe("ECONNREFUSED");

    await aws("authorize-security-group-ingress", "--group-name", "default", "--protocol", "tcp", "--port", "22", "--cidr", "127.0.0.0/8");
    // In force when the call returns; the guest itself may still be starting its listener.
    expect((await bannerSoon(priv, 22)).line).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect(await reach(pub)).toBe(`SSH-2.0-euca-test-guest ${id}`);

    const eip = await aws("allocate-address");
    await aws("associate-address", "--public-ip", eip.PublicIp, "--instance-id", id);
    expect(await reach(eip.PublicIp)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect(await reach(pub)).toBe("ECONNREFUSED");
    expect(await reach(priv)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect((await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].PublicIpAddress).toBe(eip.PublicIp);

    await aws("revoke-security-group-ingress", "--group-name", "default", "--protocol", "tcp", "--port", "22", "--cidr", "127.0.0.0/8");
    expect(await reach(priv)).toBe("ECONNREFUSED");
    expect(await reach(eip.PublicIp)).toBe("ECONNREFUSED");

    // Open again, then terminate: every forward goes with the guest.
    await aws("authorize-security-group-ingress", "--group-name", "default", "--protocol", "tcp", "--port", "22", "--cidr", "127.0.0.0/8");
    expect(await reach(eip.PublicIp)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    await aws("terminate-instances", "--instance-ids", id);
    for (let i = 0; i < 100 && qemuPid(id) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
    expect(qemuPid(id)).toBeUndefined();
    expect([await reach(priv), await reach(eip.PublicIp)]).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
    await aws("revoke-security-group-ingress", "--group-name", "default", "--protocol", "tcp", "--port", "22", "--cidr", "127.0.0.0/8");
    await aws("release-address", "--public-ip", eip.PublicIp);
  }, 400_000);
});
