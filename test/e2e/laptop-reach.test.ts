/**
 * The first thing an EC2 user does, on the built euca (`euca run`, QEMU under TCG, rootless
 * networking): run an instance, authorize SSH with Debian's awscli, connect to the address
 * describe-instances reports. The test guest answers port 22 with an SSH version line that
 * names its instance, so each connection proves which guest it reached. Closed by default,
 * open at the private and the launch public address once authorized, moved by an elastic
 * address, closed by revoke, gone with terminate. The same cloud run by an ordinary user
 * (uid 65534) forwards unprivileged ports the same way, and says what port 22 needs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { BUNDLE } from "../support/process";
import { run } from "../support/exec";
import {
  AWS,
  bannerFrom,
  bannerSoon,
  qemuPid,
  startGuestCloud,
  stopGuestCloud,
  testGuest,
  type GuestCloud,
} from "../support/guest";

const guest = testGuest();
const NOBODY = { uid: 65534, gid: 65534 };

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

/** Imports the test guest and runs it; resolves once it is running. */
async function runGuest(c: GuestCloud, name: string) {
  const imp = await run(
    process.execPath,
    [BUNDLE, "image", "import", guest!.root, "--kernel", guest!.vmlinux, "--ramdisk", guest!.initrd, "--name", name],
    { env: c.env, timeoutMs: 300_000 },
  );
  expect(imp.status, imp.stderr).toBe(0);
  const emi = /IMAGE\t(emi-\S+)/.exec(imp.stdout)![1]!;
  const id: string = (await c.aws("run-instances", "--image-id", emi, "--instance-type", "m1.small")).Instances[0]
    .InstanceId;
  let inst:
    | {
        InstanceId: string;
        State: { Name: string };
        PrivateIpAddress: string;
        PublicIpAddress?: string;
        PublicDnsName?: string;
        StateReason?: { Message: string };
      }
    | undefined;
  for (let i = 0; i < 240 && inst?.State.Name !== "running"; i++) {
    await new Promise((r) => setTimeout(r, 500));
    inst = (await c.aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];
    if (inst!.State.Name === "terminated") throw new Error(`the instance failed: ${inst!.StateReason?.Message}`);
  }
  return inst!;
}

const port = (p: string, cidr = "127.0.0.0/8") => [
  "--group-name",
  "default",
  "--protocol",
  "tcp",
  "--port",
  p,
  "--cidr",
  cidr,
];

describe.skipIf(!guest || !existsSync(AWS))("reaching a laptop cloud's instance at the address EC2 reports", () => {
  let c: GuestCloud;
  beforeAll(async () => {
    c = await startGuestCloud("euca-reach-");
  }, 120_000);
  afterAll(() => stopGuestCloud(c));

  it("euca run says how to reach an instance", () => {
    expect(c.p.stdout()).toContain(
      "ec2 authorize-security-group-ingress --group-name default --protocol tcp --port 22 --cidr 127.0.0.0/8",
    );
    expect(c.p.stdout()).toContain("ssh -i KEY.pem root@PRIVATE-OR-PUBLIC-IP");
  });

  it("closed until authorized; the private and public address reach the guest; an elastic address moves it; revoke and terminate close it", async () => {
    const inst = await runGuest(c, "reach");
    const id = inst.InstanceId;
    const priv = inst.PrivateIpAddress;
    const pub = inst.PublicIpAddress!;
    expect(priv).toMatch(/^127\.64\./);
    expect(pub).toMatch(/^127\.65\./);
    expect(inst.PublicDnsName).toBe(pub);

    // The default group is closed, as EC2's is.
    expect(await reach(priv)).toBe("ECONNREFUSED");
    expect(await reach(pub)).toBe("ECONNREFUSED");

    await c.aws("authorize-security-group-ingress", ...port("22"));
    // In force when the call returns; the guest itself may still be starting its listener.
    expect((await bannerSoon(priv, 22)).line).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect(await reach(pub)).toBe(`SSH-2.0-euca-test-guest ${id}`);

    const eip = await c.aws("allocate-address");
    await c.aws("associate-address", "--public-ip", eip.PublicIp, "--instance-id", id);
    expect(await reach(eip.PublicIp)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect(await reach(pub)).toBe("ECONNREFUSED");
    expect(await reach(priv)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect((await c.aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].PublicIpAddress).toBe(
      eip.PublicIp,
    );

    await c.aws("revoke-security-group-ingress", ...port("22"));
    expect(await reach(priv)).toBe("ECONNREFUSED");
    expect(await reach(eip.PublicIp)).toBe("ECONNREFUSED");

    // Open again, then terminate: every forward goes with the guest.
    await c.aws("authorize-security-group-ingress", ...port("22"));
    expect(await reach(eip.PublicIp)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    await c.aws("terminate-instances", "--instance-ids", id);
    for (let i = 0; i < 100 && qemuPid(id) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
    expect(qemuPid(id)).toBeUndefined();
    expect([await reach(priv), await reach(eip.PublicIp)]).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
    await c.aws("revoke-security-group-ingress", ...port("22"));
    await c.aws("release-address", "--public-ip", eip.PublicIp);
  }, 400_000);
});

// As root the test drops to uid 65534; an ordinary user running the suite is one already.
describe.skipIf(!guest || !existsSync(AWS))("the same laptop cloud run by an ordinary user", () => {
  let c: GuestCloud;
  const root = process.getuid?.() === 0;
  beforeAll(async () => {
    c = await startGuestCloud("euca-reach-", root ? NOBODY : undefined);
  }, 120_000);
  afterAll(() => stopGuestCloud(c));

  it("forwards unprivileged ports from loopback addresses with no capability, and says what a privileged one needs", async () => {
    const inst = await runGuest(c, "reach-user");
    const id = inst.InstanceId;
    await c.aws("authorize-security-group-ingress", ...port("2222"));
    expect((await bannerSoon(inst.PrivateIpAddress, 2222)).line).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect((await bannerFrom(inst.PublicIpAddress!, 2222)).line).toBe(`SSH-2.0-euca-test-guest ${id}`);
    const unprivileged = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    if (unprivileged > 22) {
      expect(c.p.stdout()).toContain(`sudo sysctl net.ipv4.ip_unprivileged_port_start=22`);
      await c.aws("authorize-security-group-ingress", ...port("22"));
      expect(await reach(inst.PrivateIpAddress)).toBe("ECONNREFUSED");
      expect(c.p.stderr()).toMatch(
        /ports below \d+ need root; as an ordinary user allow them once with: sudo sysctl net\.ipv4\.ip_unprivileged_port_start=22/,
      );
    }
    await c.aws("terminate-instances", "--instance-ids", id);
  }, 400_000);
});
