/**
 * A real QEMU guest (the test guest, TCG) in VNET_MODE MANAGED: its node puts its tap on
 * its group's segment, it leases the address EC2 reports from the CC's dnsmasq over
 * VXLAN, reads its own id from 169.254.169.254, and answers SSH from outside at its
 * public address on the port its group opens (and no other). Terminate leaves the node
 * and the head as they were. And one in SYSTEM: on the site's LAN bridge, addressed by
 * the site's DHCP, its id from its own node's metadata responder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qemuInstalled, testGuest } from "../support/guest";
import {
  dropManagedCloud,
  runGuest,
  startManagedCloud,
  startSiteDhcp,
  type ManagedCloud,
} from "../support/managed-cloud";
import { until } from "../support/until";
import { canNetns, sh } from "../support/netns";
import { watchArgv, withSecrets, type ArgvWatch } from "../support/argv-watch";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const guest = testGuest();
const ready = (canNetns() && qemuInstalled() && !!guest) || process.env.CI === "true";

describe.runIf(ready)("a real guest on a MANAGED segment", () => {
  let c: ManagedCloud;
  let inst: { InstanceId: string; PrivateIpAddress: string; PublicIpAddress: string };
  let consoleText = "";

  beforeAll(async () => {
    expect(guest, "the test guest (scripts/test-guest.sh) is built by the global setup").toBeDefined();
    c = await startManagedCloud("eug", [{ name: "n1", hypervisor: "qemu" }]);
    const image = await c.importImage([
      guest!.root,
      "--kernel",
      guest!.vmlinux,
      "--ramdisk",
      guest!.initrd,
      "--name",
      "managed-guest",
    ]);
    await c.ec2(
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
    ({ instance: inst, console: consoleText } = await runGuest(c, image));
  }, 300_000);

  afterAll(() => dropManagedCloud(c));

  it("the guest leased its EC2 address over VXLAN and read its own id from the metadata service", () => {
    expect(consoleText).toContain(`EUCA-DHCP eth0 ${inst.PrivateIpAddress}`);
    expect(consoleText).toContain(`EUCA-INSTANCE-ID=${inst.InstanceId}`);
  });

  it("SSH answers from outside at the public address on the port the group opens, and no other", async () => {
    expect(await c.hear("out", inst.PublicIpAddress, 22)).toBe(`SSH-2.0-euca-test-guest ${inst.InstanceId}`);
    expect(await c.hear("out", inst.PublicIpAddress, 2222)).toBe("");
  });

  it("terminate removes the guest's tap, filter, segment, lease and public address", async () => {
    await c.ec2("terminate-instances", "--instance-ids", inst.InstanceId);
    await until(() => ["n1", "head"].every((n) => c.snapshot(n) === c.before[n]), { timeoutMs: 30_000 }).catch(() => {
      for (const n of ["n1", "head"]) expect(c.snapshot(n), n).toBe(c.before[n]);
    });
    await c.stop();
  });
});

describe.runIf(ready)("a real guest on the site's LAN (SYSTEM)", () => {
  let c: ManagedCloud;
  let id = "";
  let consoleText = "";

  beforeAll(async () => {
    c = await startManagedCloud("euq", [{ name: "n1", hypervisor: "qemu" }], { mode: "SYSTEM" });
    startSiteDhcp(c);
    const image = await c.importImage([
      guest!.root,
      "--kernel",
      guest!.vmlinux,
      "--ramdisk",
      guest!.initrd,
      "--name",
      "lan-guest",
    ]);
    await c.ec2(
      "authorize-security-group-ingress",
      "--group-name",
      "default",
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "192.168.50.254/32",
    );
    const g = await runGuest(c, image);
    id = g.instance.InstanceId;
    consoleText = g.console;
  }, 300_000);

  afterAll(() => dropManagedCloud(c));

  it("the guest took the site's lease, EC2 learned it, and its node's responder told it its id", async () => {
    const leased = /EUCA-DHCP eth0 (192\.168\.50\.1[0-5]\d)/.exec(consoleText)?.[1];
    expect(leased, consoleText).toBeDefined();
    expect(consoleText).toContain(`EUCA-INSTANCE-ID=${id}`);
    await until(
      async () =>
        (await c.ec2("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0].PrivateIpAddress ===
        leased,
      { timeoutMs: 15_000 },
    );
    expect(await c.hear("site", leased!, 22)).toBe(`SSH-2.0-euca-test-guest ${id}`);
    expect(await c.hear("head", leased!, 22)).toBe(""); // not the authorized address
  });

  it("terminate removes the guest's tap and filter; the node is as it was", async () => {
    await c.ec2("terminate-instances", "--instance-ids", id);
    await until(() => ["n1", "head"].every((n) => c.snapshot(n) === c.before[n]), { timeoutMs: 30_000 }).catch(() => {
      for (const n of ["n1", "head"]) expect(c.snapshot(n), n).toBe(c.before[n]);
    });
    await c.stop();
  });
});

for (const via of ["nbd", "iscsi"] as const)
  describe.runIf(ready)(
    `a real guest's volume on another host: ${via === "nbd" ? "NBD" : "iSCSI"} from the head's SC`,
    () => {
      let c: ManagedCloud;
      let inst: { InstanceId: string; PublicIpAddress: string };

      /** A session with the guest's disk port from outside: the lines it answered to `cmds`. */
      const session = async (...cmds: string[]) => {
        const script = `(sleep 1; ${cmds.map((x) => `echo '${x}'; sleep 1`).join("; ")}) | busybox nc -w 3 ${inst.PublicIpAddress} 2224`;
        return (await c.inNs("out", "sh", ["-c", script])).stdout.split("\n").filter(Boolean);
      };

      // Every command line of the run, attach, snapshot and detach (issue 25, item 11): none holds a secret.
      let watch: ArgvWatch;
      const secrets: string[] = [];

      beforeAll(async () => {
        watch = watchArgv();
        c = await startManagedCloud(via === "nbd" ? "eun" : "eui", [{ name: "n1", hypervisor: "qemu" }], {
          headArgs: ["--sc-export", via],
          pathFirst: watch.binDir,
        });
        const image = await c.importImage([
          guest!.root,
          "--kernel",
          guest!.vmlinux,
          "--ramdisk",
          guest!.initrd,
          "--name",
          "nbd-guest",
        ]);
        await c.ec2(
          "authorize-security-group-ingress",
          "--group-name",
          "default",
          "--protocol",
          "tcp",
          "--port",
          "2224",
          "--cidr",
          "198.51.100.0/24",
        );
        inst = (await runGuest(c, image)).instance;
      }, 300_000);

      afterAll(() => {
        watch?.stop();
        dropManagedCloud(c);
        sh("pkill -f 'qemu-storage-daemon.*euca-managed-'");
      });

      it(
        via === "nbd"
          ? "attached over NBD (TLS-PSK, one daemon for this attachment), written, snapshotted while attached, restored and read back"
          : "attached over iSCSI (tgt, a target and CHAP account for this attachment), written, snapshotted, restored and read back",
        async () => {
          const vol: string = (await c.ec2("create-volume", "--size", "1", "--availability-zone", "cluster1")).VolumeId;
          await until(
            async () => (await c.ec2("describe-volumes", "--volume-ids", vol)).Volumes[0].State === "available",
          );
          await c.ec2("attach-volume", "--volume-id", vol, "--instance-id", inst.InstanceId, "--device", "/dev/sdf");
          // The node is on another host: the head serves the volume on its LAN address, behind TLS-PSK (NBD) or CHAP (iSCSI).
          const daemons = sh(`ip netns pids ${c.nss.name("head")} | xargs -r ps -o args= -p`).out;
          if (via === "nbd")
            expect(daemons).toMatch(
              new RegExp(
                `qemu-storage-daemon .*addr.host=192\\.168\\.50\\.1,addr.port=\\d+,tls-creds=tls0 .*name=${vol}`,
              ),
            );
          else expect(daemons).toMatch(/tgtd -f -C \d+ --iscsi portal=192\.168\.50\.1:3260/);
          secrets.push(...secretsUnder(c.dir));
          const written = await session(`write ${vol} over-nbd`);
          expect(written.find((l) => l.includes(`serial=${vol}`))).toMatch(/^DISK vd[b-z] /);
          expect(written).toContain(`WROTE ${vol}`);

          const snap: string = (await c.ec2("create-snapshot", "--volume-id", vol)).SnapshotId;
          await until(
            async () => (await c.ec2("describe-snapshots", "--snapshot-ids", snap)).Snapshots[0].State === "completed",
            { timeoutMs: 60_000 },
          );
          const copy: string = (await c.ec2("create-volume", "--snapshot-id", snap, "--availability-zone", "cluster1"))
            .VolumeId;
          await until(
            async () => (await c.ec2("describe-volumes", "--volume-ids", copy)).Volumes[0].State === "available",
            { timeoutMs: 60_000 },
          );
          await c.ec2("attach-volume", "--volume-id", copy, "--instance-id", inst.InstanceId, "--device", "/dev/sdg");
          expect(await session(`read ${copy}`, `read ${vol}`)).toEqual(
            expect.arrayContaining([`READ ${copy} over-nbd`, `READ ${vol} over-nbd`]),
          );

          for (const v of [copy, vol]) await c.ec2("detach-volume", "--volume-id", v);
          expect(sh(`ip netns pids ${c.nss.name("head")} | xargs -r ps -o args= -p`).out).not.toContain(
            "qemu-storage-daemon",
          ); // each attachment's daemon ended with it
          if (via === "iscsi") {
            const control = /tgtd -f -C (\d+)/.exec(
              sh(`ip netns pids ${c.nss.name("head")} | xargs -r ps -o args= -p`).out,
            )![1]!;
            const shown = sh(
              `ip netns exec ${c.nss.name("head")} tgtadm -C ${control} --lld iscsi --op show --mode target`,
            ).out;
            expect(shown).not.toContain("euca:vol-"); // each attachment's target ended with it
            expect(
              sh(`ip netns exec ${c.nss.name("head")} tgtadm -C ${control} --lld iscsi --op show --mode account`).out,
            ).not.toContain("i-");
          }
          await c.ec2("terminate-instances", "--instance-ids", inst.InstanceId);
          await c.stop();
          const lines = watch.stop();
          expect(lines.some((l) => l.includes("qemu-system-x86_64"))).toBe(true); // the watch saw the guest start
          expect(lines.some((l) => l.includes(via === "nbd" ? "qemu-storage-daemon" : "tgtd -f"))).toBe(true); // and the export
          expect(secrets.length).toBeGreaterThan(0);
          expect(withSecrets(lines, secrets)).toEqual([]);
        },
      );
    },
  );

/** Secrets a cloud's data directories hold: access keys in eucarc files, component keys, NBD pre-shared keys. */
function secretsUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "eucarc")
        out.push(
          ...[...readFileSync(p, "utf8").matchAll(/_SECRET_(?:ACCESS_)?KEY=['"]?([^'"\n]+)/g)].map((m) => m[1]!),
        );
      else if (e.name === "keys.psk")
        out.push(
          ...readFileSync(p, "utf8")
            .trim()
            .split("\n")
            .map((l) => l.slice(l.indexOf(":") + 1)),
        );
    }
  };
  walk(dir);
  return out;
}
