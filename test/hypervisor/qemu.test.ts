/**
 * The Hypervisor contract against real qemu-system-x86_64 guests (TCG here: /dev/kvm on
 * these machines cannot run a stock kernel usefully). Faults are real too: a start fails
 * through a wrapper in front of QEMU that refuses the instance's name, a crash is QEMU
 * killed with SIGKILL. Guests have no NIC (`-nic none`), so none can send a packet.
 */
import { describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { QemuHypervisor, tapName } from "../../src/hypervisor/qemu/qemu-hypervisor";
import { qemuArgs } from "../../src/hypervisor/qemu/args";
import { probeBoot } from "../../src/hypervisor/qemu/probe";
import { systemClock } from "../../src/common/clock";
import { tempDir } from "../support/cloud";
import { bannerFrom, bannerSoon, testGuest } from "../support/guest";
import { baseSpec, hypervisorContract } from "../contracts/hypervisor.contract";

const guest = testGuest();

/** "" when a UDP socket can bind host:port, else the error code (EADDRINUSE: someone holds it). */
async function udpBindError(host: string, port: number): Promise<string> {
  const u = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      u.once("error", reject);
      u.bind(port, host, () => resolve());
    });
    return "";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  } finally {
    u.close();
  }
}

function fixture() {
  const dir = tempDir("euca-qemu-");
  // A wrapper in front of QEMU: instances listed in fail-ids are refused as QEMU itself would refuse a bad option.
  const wrapper = join(dir, "qemu-wrapper");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nfor a in "$@"; do grep -qx -- "$a" ${join(dir, "fail-ids")} 2>/dev/null && { echo "qemu-system-x86_64: -name $a: simulated failure" >&2; exit 1; }; done\nexec qemu-system-x86_64 "$@"\n`,
    { mode: 0o755 },
  );
  const make = () =>
    new QemuHypervisor({
      stateDir: join(dir, "state"),
      accel: "tcg",
      clock: systemClock,
      binary: wrapper,
      stopTimeoutMs: 500,
    });
  const root = join(dir, "root.ext4");
  copyFileSync(guest!.root, root);
  const hv = make();
  return { dir, hv, make, root };
}

describe.skipIf(!guest)("qemu driver", () => {
  hypervisorContract("qemu (TCG, real guests)", async () => {
    const { dir, hv, make, root } = fixture();
    return {
      hv,
      reopen: make,
      dir,
      base: {
        kernel: guest!.vmlinux,
        ramdisk: guest!.initrd,
        kernelArgs: "console=ttyS0 quiet panic=-1 root=/dev/vda",
        disks: [{ path: root, device: "vda" }],
        nics: [],
      },
      booted: async (id, afterBytes = 0) => {
        for (let i = 0; i < 300; i++) {
          const out = await hv.consoleOutput(id).catch(() => "");
          if (out.length > afterBytes && out.slice(afterBytes).includes("EUCA-GUEST-BOOTED")) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`${id} did not boot`);
      },
      second: () => {
        const copy = join(dir, "root2.ext4");
        copyFileSync(root, copy);
        return { disks: [{ path: copy, device: "vda" }] };
      },
      volume: (name) => {
        const f = join(dir, name);
        if (!existsSync(f)) {
          writeFileSync(f, "");
          truncateSync(f, 8 * 1024 * 1024);
        }
        return f;
      },
      faults: {
        failStart: (id) => appendFileSync(join(dir, "fail-ids"), `${id}\n`),
        crash: async (id) => {
          const pid = Number(readFileSync(join(dir, "state", id, "qemu.pid"), "utf8"));
          process.kill(pid, "SIGKILL");
          // Dead once its command line is gone (a zombie waiting for init to reap it has none).
          for (
            let i = 0;
            i < 100 && existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, "utf8") !== "";
            i++
          )
            await new Promise((r) => setTimeout(r, 20));
        },
      },
      teardown: async () => {
        for (const d of await hv.list()) await hv.destroy(d.instanceId);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it("a kernel that does not exist fails the start with the path, leaving nothing", async () => {
    const { dir, hv } = fixture();
    const s = baseSpec(dir, { kernel: join(dir, "no-such-vmlinuz"), disks: [], nics: [] });
    await expect(hv.start(s)).rejects.toMatchObject({
      kind: "start-failed",
      message: expect.stringContaining("no-such-vmlinuz"),
    });
    expect(await hv.list()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("QEMU's own refusal (a disk it cannot open) is the start error, and nothing is left", async () => {
    const { dir, hv, root } = fixture();
    const bad = join(dir, "not-a-dir", "disk");
    const s = baseSpec(dir, {
      kernel: guest!.vmlinux,
      ramdisk: guest!.initrd,
      disks: [{ path: root, device: "vda" }],
      nics: [],
    });
    writeFileSync(join(dir, "fail-ids"), "");
    await expect(hv.start({ ...s, consolePath: bad })).rejects.toMatchObject({
      kind: "start-failed",
      message: expect.stringMatching(/QEMU failed to start.*not-a-dir/),
    });
    expect(await hv.list()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards loopback ports to a user-mode guest, changes them in place, and keeps established connections", async () => {
    const { dir, hv, make, root } = fixture();
    const net = `127.99.${process.pid % 250}.${10 + Math.floor(Math.random() * 200)}`;
    const [a, b, c] = [
      `${net.split(".").slice(0, 3).join(".")}.1`,
      `${net.split(".").slice(0, 3).join(".")}.2`,
      `${net.split(".").slice(0, 3).join(".")}.3`,
    ];
    const s = baseSpec(dir, {
      kernel: guest!.vmlinux,
      ramdisk: guest!.initrd,
      kernelArgs: "console=ttyS0 quiet root=/dev/vda",
      disks: [{ path: root, device: "vda" }],
      nics: [
        { mode: "user", mac: "d0:0d:00:00:00:43", ip: a!, forwards: [{ protocol: "tcp", hostIp: a!, port: 2222 }] },
      ],
    });
    try {
      expect((await hv.start(s)).forwards).toEqual([{ protocol: "tcp", hostIp: a, port: 2222 }]);
      const held = await bannerSoon(a!, 2222);
      expect(held.line).toMatch(/^SSH-2\.0-euca-test-guest/);

      // Moved to another address, plus a UDP port: the old address refuses, the new one answers, the UDP port is QEMU's.
      expect(
        await hv.setForwards(s.instanceId, [
          { protocol: "tcp", hostIp: b!, port: 2222 },
          { protocol: "udp", hostIp: a!, port: 5353 },
        ]),
      ).toEqual({ failed: [] });
      await expect(bannerFrom(a!, 2222)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      expect((await bannerFrom(b!, 2222)).line).toMatch(/^SSH-2\.0-euca-test-guest/);
      expect(await udpBindError(a!, 5353)).toBe("EADDRINUSE");
      // The connection made before the change is still open and still reaches the guest.
      expect(await held.echo("still-here")).toBe("still-here");
      held.close();

      // Something else on an address and port: that forward fails and says why; the rest are in force.
      const other = createServer().listen(2222, c);
      await once(other, "listening");
      const r = await hv.setForwards(s.instanceId, [
        { protocol: "tcp", hostIp: b!, port: 2222 },
        { protocol: "tcp", hostIp: c!, port: 2222 },
      ]);
      other.close();
      expect(r.failed.map((f) => f.forward)).toEqual([{ protocol: "tcp", hostIp: c, port: 2222 }]);
      expect(r.failed[0]!.reason).toMatch(/something else listening/);
      expect(await udpBindError(a!, 5353)).toBe(""); // removed

      await expect(
        hv.setForwards(s.instanceId, [{ protocol: "tcp", hostIp: "0.0.0.0", port: 2222 }]),
      ).rejects.toMatchObject({ kind: "invalid" });
      await expect(hv.setForwards("i-0BADF00D", [])).rejects.toMatchObject({ kind: "not-found" });
      // A restarted NC reads what is in force from QEMU itself.
      const again = make();
      expect((await again.get(s.instanceId))?.forwards).toEqual([{ protocol: "tcp", hostIp: b, port: 2222 }]);
      await again.setForwards(s.instanceId, []);
      await expect(bannerFrom(b!, 2222)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await hv.destroy(s.instanceId);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("the acceleration probe boots a 512-byte guest and sees it print", async () => {
    expect(await probeBoot("qemu-system-x86_64", "tcg")).toBeGreaterThan(0);
  });
});

describe("qemu command line", () => {
  const s = baseSpec("/tmp", {
    instanceId: "i-0a1b2c3d",
    kernel: "/k",
    ramdisk: "/r",
    kernelArgs: "root=/dev/vda console=ttyS0",
    disks: [
      { path: "/d/root", device: "vda" },
      { path: "/d/swap,x", device: "vdc" },
    ],
    nics: [{ mode: "user", mac: "d0:0d:0a:1b:2c:3d", ip: "127.64.0.10" }],
    consolePath: "/d/console.log",
  });
  const run = { accel: "tcg" as const, qmpPath: "/d/qmp.sock", pidPath: "/d/qemu.pid" };

  it("always -nodefaults, TCG with -cpu max, serial to the console file, QMP, daemonized", () => {
    const a = qemuArgs(s, { ...run, net: { mode: "none" } });
    expect(a.slice(0, 4)).toEqual(["-name", "i-0a1b2c3d", "-nodefaults", "-no-user-config"]);
    expect(a.join(" ")).toContain("-accel tcg -cpu max -m 256 -smp 1");
    expect(a.join(" ")).toContain("-chardev file,id=console0,path=/d/console.log,append=on -serial chardev:console0");
    expect(a.join(" ")).toContain("-qmp unix:/d/qmp.sock,server=on,wait=off -daemonize -pidfile /d/qemu.pid");
    expect(a.join(" ")).toContain("-kernel /k -initrd /r -append root=/dev/vda console=ttyS0");
    expect(a.join(" ")).toContain(
      "-drive file=/d/swap,,x,format=raw,if=none,id=disk1 -device virtio-blk-pci,drive=disk1,id=vdc",
    );
    expect(a.slice(-2)).toEqual(["-nic", "none"]);
    expect(qemuArgs(s, { ...run, accel: "kvm", net: { mode: "none" } }).join(" ")).toContain("-accel kvm -cpu host");
  });

  it("rootless networking is restricted user mode: DHCP, metadata forwarded with the instance's address, no host forward until one is added", () => {
    const a = qemuArgs(s, {
      ...run,
      net: { mode: "user", metadataCommand: "socat - TCP:127.0.0.1:8773,bind=127.64.0.10" },
    });
    const netdev = a[a.indexOf("-netdev") + 1]!;
    expect(netdev).toBe(
      "user,id=net0,restrict=on,net=169.254.169.0/24,host=169.254.169.2,dhcpstart=169.254.169.15,guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:8773,,bind=127.64.0.10",
    );
    expect(a[a.indexOf("-device", a.indexOf("-netdev")) + 1]).toBe("virtio-net-pci,netdev=net0,mac=d0:0d:0a:1b:2c:3d");
    expect(a).not.toContain("-nic");
  });

  it("disk boot without a kernel marks the first disk bootable; a tap NIC when bridged", () => {
    const a = qemuArgs({ ...s, kernel: undefined }, { ...run, net: { mode: "tap", ifname: "tap-i1" } });
    expect(a).not.toContain("-kernel");
    expect(a.join(" ")).toContain("virtio-blk-pci,drive=disk0,id=vda,bootindex=0");
    expect(a.join(" ")).toContain("-netdev tap,id=net0,ifname=tap-i1,script=no,downscript=no");
  });

  it("an EBS root is the block node a hot-plug makes: serial = volume id, NBD over TLS-PSK, an iSCSI password from a file", () => {
    const nbdRoot = {
      path: "nbd://10.0.0.2:10809/vol-0a1b2c3d",
      device: "vda",
      volumeId: "vol-0a1b2c3d",
      nbd: { host: "10.0.0.2", port: 10809, export: "vol-0a1b2c3d", identity: "i-0a1b2c3d", pskDir: "/d/vol.psk" },
    };
    const a = qemuArgs({ ...s, kernel: undefined, disks: [nbdRoot] }, { ...run, net: { mode: "none" } });
    expect(JSON.parse(a[a.indexOf("-object") + 1]!)).toEqual({
      "qom-type": "tls-creds-psk",
      id: "t-vda",
      endpoint: "client",
      dir: "/d/vol.psk",
      username: "i-0a1b2c3d",
    });
    expect(JSON.parse(a[a.indexOf("-blockdev") + 1]!)).toMatchObject({
      driver: "raw",
      "node-name": "n-vda",
      file: {
        driver: "nbd",
        export: "vol-0a1b2c3d",
        "tls-creds": "t-vda",
        server: { host: "10.0.0.2", port: "10809" },
      },
    });
    expect(a[a.indexOf("-blockdev") + 3]).toBe("virtio-blk-pci,id=vda,drive=n-vda,serial=vol-0a1b2c3d,bootindex=0");
    const iscsiRoot = {
      path: "iscsi://10.0.0.2:3260/iqn.x/1",
      device: "vda",
      volumeId: "vol-0a1b2c3d",
      iscsi: { portal: "10.0.0.2:3260", target: "iqn.x", lun: 1, user: "u", password: "chap-secret" },
    };
    const b = qemuArgs(
      { ...s, disks: [iscsiRoot] },
      { ...run, net: { mode: "none" }, secretPath: (d) => `/d/${d}.secret` },
    );
    expect(b.join(" ")).not.toContain("chap-secret");
    expect(JSON.parse(b[b.indexOf("-object") + 1]!)).toEqual({
      "qom-type": "secret",
      id: "t-vda",
      file: "/d/vda.secret",
    });
    // A kernel boots it: no bootindex. A qcow2 volume file is opened as qcow2.
    expect(b[b.indexOf("-blockdev") + 3]).toBe("virtio-blk-pci,id=vda,drive=n-vda,serial=vol-0a1b2c3d");
    const c = qemuArgs(
      { ...s, disks: [{ path: "/v/vol.qcow2", device: "vda", format: "qcow2", volumeId: "vol-0a1b2c3d" }] },
      { ...run, net: { mode: "none" } },
    );
    expect(JSON.parse(c[c.indexOf("-blockdev") + 1]!)).toMatchObject({
      driver: "qcow2",
      file: { driver: "file", filename: "/v/vol.qcow2" },
    });
  });
});

describe.skipIf(!guest || process.getuid?.() !== 0)(
  "qemu driver on a bridge (root, in the test's own network namespace)",
  () => {
    it("gives the guest a tap on its bridge inside the node's namespace, and removes it with the guest", async () => {
      const ns = `euca-t${process.pid}`;
      const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
      expect(
        sh(`ip netns add ${ns} && ip -n ${ns} link add br-eu type bridge && ip -n ${ns} link set br-eu up`).status,
      ).toBe(0);
      const { dir, root } = fixture();
      try {
        const hv = new QemuHypervisor({ stateDir: join(dir, "state"), accel: "tcg", clock: systemClock, netns: ns });
        const s = baseSpec(dir, {
          kernel: guest!.vmlinux,
          ramdisk: guest!.initrd,
          kernelArgs: "console=ttyS0 quiet root=/dev/vda",
          disks: [{ path: root, device: "vda" }],
          nics: [{ mode: "bridge", mac: "d0:0d:00:00:00:42", bridge: "br-eu" }],
        });
        await hv.start(s);
        const tap = tapName(s.instanceId);
        expect(sh(`ip -n ${ns} -o link show master br-eu`).stdout).toContain(tap);
        expect(sh(`ip -o link show ${tap}`).status).not.toBe(0); // nothing appeared in the host's namespace
        for (let i = 0; i < 200 && !(await hv.consoleOutput(s.instanceId)).includes("udhcpc: started"); i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(await hv.consoleOutput(s.instanceId)).toContain("udhcpc: started"); // the guest's NIC is up on the tap
        await hv.destroy(s.instanceId);
        expect(sh(`ip -n ${ns} -o link show ${tap}`).status).not.toBe(0);
      } finally {
        sh(`ip netns del ${ns}`);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
