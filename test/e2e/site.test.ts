/**
 * The deployment guide's site, tried as an administrator would: four hosts in network
 * namespaces — head (CLC, Walrus), cluster host (CC, SC: the guests' gateway), two nodes —
 * the last three joined only with `euca join <token>` and started from the config file it
 * wrote (MANAGED and the site's settings come from the cloud). Real QEMU guests on both
 * nodes boot an image from the head's Walrus and read their metadata (one launched with
 * AddressingType=private, which the head could never be asked for); an elastic address
 * answers from outside; a volume on the cluster host attaches to a guest on a node and
 * snapshots into Walrus on the head. A capture of the cluster network holds none of the
 * secrets that crossed it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { qemuInstalled, testGuest } from "../support/guest";
import { canNetns, sh } from "../support/netns";
import { until } from "../support/until";
import { dropSite, startSite, type Site } from "../support/site";

const guest = testGuest();
const ready = (canNetns() && qemuInstalled() && !!guest) || process.env.CI === "true";
const CAPTURE = join(__dirname, "..", "support", "capture.py");
const RUN_PRIVATE = join(__dirname, "..", "support", "clients", "boto2_run_private.py");
const USER_DATA = "euca-site-user-data-7f3a9c";

describe.runIf(ready)("a four-host site joined by token (MANAGED, real guests)", () => {
  let site: Site;
  let capture: ChildProcess;
  const capFile = () => join(site.dir, "lan.cap");
  const ids: Record<"public" | "private", string> = { public: "", private: "" };
  const consoles: Record<string, string> = {};

  beforeAll(async () => {
    expect(guest, "the test guest (scripts/test-guest.sh) is built by the global setup").toBeDefined();
    site = await startSite("eus", [
      { name: "n1", hypervisor: "qemu" },
      { name: "n2", hypervisor: "qemu" },
    ]);
    // Everything the cloud sends on the cluster's LAN from here on: image fetches, launches, attach, snapshot.
    // Left out: VXLAN, the guests' own traffic on their segments — a guest's metadata answers (its
    // user-data too) cross its segment from the CC as plain HTTP, as EC2's do on the guest's link.
    capture = spawn(
      "ip",
      ["netns", "exec", site.nss.name("lan"), "/usr/bin/python3", CAPTURE, capFile(), "--without-vxlan"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve) => capture.stdout!.once("data", () => resolve()));
    const image = await site.importImage([
      guest!.root,
      "--kernel",
      guest!.vmlinux,
      "--ramdisk",
      guest!.initrd,
      "--name",
      "site-guest",
    ]);
    await site.ec2(
      "authorize-security-group-ingress",
      "--group-name",
      "default",
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "198.51.100.0/24",
    );
    ids.public = (
      await site.ec2("run-instances", "--image-id", image, "--instance-type", "m1.small", "--user-data", USER_DATA)
    ).Instances[0].InstanceId;
    const r = await site.inNs("head", "/usr/bin/python3", [RUN_PRIVATE, image], {
      EC2_URL: site.procs.head!.ec2Url,
      AWS_ACCESS_KEY_ID: site.adminEnv.EC2_ACCESS_KEY!,
      AWS_SECRET_ACCESS_KEY: site.adminEnv.EC2_SECRET_KEY!,
      AWS_CA_BUNDLE: site.adminEnv.AWS_CA_BUNDLE!,
    });
    expect(r.status, r.stderr).toBe(0);
    ids.private = r.stdout.trim();
    for (const id of Object.values(ids))
      await until(
        async () => {
          consoles[id] = (await site.ec2("get-console-output", "--instance-id", id)).Output ?? "";
          return consoles[id]!.includes("EUCA-GUEST-READY");
        },
        { what: `${id} booted`, timeoutMs: 240_000, everyMs: 2000 },
      );
  }, 420_000);

  afterAll(() => {
    capture?.kill("SIGKILL");
    dropSite(site);
  });

  it("the cluster host and the nodes run from what `euca join` wrote: their roles and the cloud's MANAGED, no flag repeated", () => {
    for (const n of ["cc", "n1", "n2"]) {
      const conf = readFileSync(join(site.dir, n, "euca.conf"), "utf8");
      expect(conf).toMatch(/^VNET_MODE=MANAGED$/m);
      expect(conf).toMatch(/^CLC_URL=https:\/\/192\.168\.50\.1:\d+$/m);
      expect(site.procs[n]!.stdout()).toMatch(n === "cc" ? /roles=cc,sc / : /roles=nc /);
    }
    // The instances were spread over both nodes, each a QEMU guest in its node's namespace.
    const on = (n: string) => {
      const args = sh(`ip netns pids ${site.nss.name(n)} | xargs -r ps -o args= -p`).out;
      return Object.values(ids).filter((id) => args.includes("qemu-system") && args.includes(id));
    };
    expect([...on("n1"), ...on("n2")].sort()).toEqual(Object.values(ids).sort());
    expect(on("n1")).toHaveLength(1);
  });

  it("both guests booted from the head's Walrus and read their own id from the metadata service, the private one too", () => {
    for (const id of Object.values(ids)) expect(consoles[id]).toContain(`EUCA-INSTANCE-ID=${id}`);
  });

  it("SSH answers from outside at the public address, and at an elastic address given to the private one", async () => {
    const pub = (await site.ec2("describe-instances", "--instance-ids", ids.public)).Reservations[0].Instances[0];
    expect(await site.hear("out", pub.PublicIpAddress, 22)).toBe(`SSH-2.0-euca-test-guest ${ids.public}`);
    const eip = (await site.ec2("allocate-address")).PublicIp as string;
    await site.ec2("associate-address", "--instance-id", ids.private, "--public-ip", eip);
    await until(async () => (await site.hear("out", eip, 22)) === `SSH-2.0-euca-test-guest ${ids.private}`, {
      what: "the elastic address answering",
      timeoutMs: 30_000,
    });
  }, 60_000);

  it("a volume on the cluster host attaches to a guest on a node and snapshots into Walrus on the head", async () => {
    const vol: string = (await site.ec2("create-volume", "--size", "1", "--availability-zone", "cluster1")).VolumeId;
    await until(async () => (await site.ec2("describe-volumes", "--volume-ids", vol)).Volumes[0].State === "available");
    await site.ec2("attach-volume", "--volume-id", vol, "--instance-id", ids.public, "--device", "/dev/sdf");
    await until(
      async () =>
        (await site.ec2("describe-volumes", "--volume-ids", vol)).Volumes[0].Attachments?.[0]?.State === "attached",
      { what: "attached", timeoutMs: 60_000 },
    );
    const snap: string = (await site.ec2("create-snapshot", "--volume-id", vol)).SnapshotId;
    await until(
      async () => (await site.ec2("describe-snapshots", "--snapshot-ids", snap)).Snapshots[0].State === "completed",
      { what: "snapshot completed", timeoutMs: 120_000 },
    );
    // Its chunks are in Walrus on the head, not on the cluster host; the SC's NBD daemon held it still (no warning).
    expect(existsSync(join(site.dir, "head", "walrus"))).toBe(true);
    expect(site.procs.head!.stderr()).not.toContain("cannot hold the volume still");
    await site.ec2("detach-volume", "--volume-id", vol);
  }, 240_000);

  it("an EBS-backed guest boots on a node from its root volume on the cluster host (NBD), stops and starts", async () => {
    const image = await site.importImage([
      guest!.root,
      "--kernel",
      guest!.vmlinux,
      "--ramdisk",
      guest!.initrd,
      "--name",
      "site-ebs",
      "--ebs",
    ]);
    const id: string = (await site.ec2("run-instances", "--image-id", image, "--instance-type", "m1.small"))
      .Instances[0].InstanceId;
    const booted = (what: string) =>
      until(
        async () =>
          (await site.ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name ===
            "running" &&
          ((await site.ec2("get-console-output", "--instance-id", id)).Output ?? "").includes(`EUCA-INSTANCE-ID=${id}`),
        { what, timeoutMs: 240_000, everyMs: 2000 },
      );
    await booted(`${id} booted from its root volume`);
    const inst = (await site.ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0];
    expect(inst.RootDeviceType).toBe("ebs");
    await site.ec2("stop-instances", "--instance-ids", id, "--force");
    await until(
      async () =>
        (await site.ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].State.Name ===
        "stopped",
      { what: `${id} stopped`, timeoutMs: 120_000 },
    );
    await site.ec2("start-instances", "--instance-ids", id);
    await booted(`${id} booted again`);
    expect(
      (await site.ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].PrivateIpAddress,
    ).toBe(inst.PrivateIpAddress);
    await site.ec2("terminate-instances", "--instance-ids", id);
  }, 600_000);

  it("`euca admin` from a node's host with the admin's eucarc: status of every component, a live property set", async () => {
    const status = await site.euca("n2", ["admin", "status"], site.adminEnv);
    expect(status).toMatch(/^cc\s+cluster1\s+available\s/m);
    expect(status).toMatch(/^nc\s+cluster1\/n1\s+up\s/m);
    expect(status).toMatch(/^nc\s+cluster1\/n2\s+up\s/m);
    const set = await site.euca("n2", ["admin", "property", "set", "MAX_ADDRESSES_PER_USER=7"], site.adminEnv);
    expect(set).toBe("euca: MAX_ADDRESSES_PER_USER=7; in force: now\n");
    expect(readFileSync(join(site.dir, "head.conf"), "utf8")).toMatch(/^MAX_ADDRESSES_PER_USER=7$/m);
  }, 60_000);

  it("nothing secret the cloud sent crossed the cluster network in clear: no user-data, NBD key, secret key or host key", async () => {
    capture.kill("SIGTERM");
    await new Promise((r) => capture.once("exit", r));
    const cap = readFileSync(capFile());
    expect(cap.length).toBeGreaterThan(100_000); // it saw the traffic (images, volumes)
    const secrets: Record<string, string> = {
      "user-data": USER_DATA,
      "admin secret key": site.adminEnv.EC2_SECRET_KEY!,
    };
    for (const n of ["cc", "n1", "n2"]) {
      const pem = readFileSync(join(site.dir, n, "keys", "host-key.pem"), "utf8");
      secrets[`${n}'s host key`] = pem.split("\n")[2]!; // a line of the key's base64
    }
    for (const f of findFiles(join(site.dir, "cc"), /psk|chap/i)) {
      const text = readFileSync(f, "utf8").trim();
      if (text.length >= 16) secrets[`NBD/iSCSI secret ${f}`] = text.slice(-32);
    }
    for (const [what, secret] of Object.entries(secrets)) expect(cap.includes(Buffer.from(secret)), what).toBe(false);
  });
});

function findFiles(dir: string, name: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name));
    else if (name.test(e.name)) out.push(p);
  }
  return out;
}
