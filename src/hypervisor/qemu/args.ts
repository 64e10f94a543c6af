/**
 * The qemu-system-x86_64 command line for one instance. Pure, so every flag is tested.
 * Always -nodefaults -no-user-config: no device, NIC or config the driver did not ask
 * for (a default NIC would put the guest on the host's real network).
 */
import type { DomainSpec } from "../types";
import { blockdevOf, diskDevice } from "./hotplug";

export type Accel = "kvm" | "tcg";

/** How the guest is networked: no NIC, a tap on a bridge (root), or user networking (rootless). */
export type QemuNet =
  | { mode: "none" }
  | { mode: "tap"; ifname: string }
  | {
      mode: "user";
      /** Forward the guest's 169.254.169.254:80 to this command (one per connection), e.g. socat to the metadata service. */
      metadataCommand?: string;
    };

/** The id of the guest's one netdev, which hostfwd_add / hostfwd_remove name. */
export const NETDEV_ID = "net0";

export interface QemuRun {
  accel: Accel;
  qmpPath: string;
  pidPath: string;
  net: QemuNet;
  /** Where an iSCSI volume's CHAP password is written for QEMU to read (never on the command line). */
  secretPath?: (device: string) => string;
}

/** The guest network of rootless mode: 169.254.169.0/24, so 169.254.169.254 is inside it and can be forwarded. */
export const USER_NET = { net: "169.254.169.0/24", host: "169.254.169.2", dhcpStart: "169.254.169.15" };

/** QEMU's option syntax doubles a comma inside a value. */
const q = (v: string) => v.replaceAll(",", ",,");

export function qemuArgs(spec: DomainSpec, run: QemuRun): string[] {
  const a = [
    "-name",
    q(spec.instanceId),
    "-nodefaults",
    "-no-user-config",
    "-accel",
    run.accel,
    "-cpu",
    run.accel === "kvm" ? "host" : "max",
    "-m",
    String(spec.memoryMb),
    "-smp",
    String(spec.cores),
    "-display",
    "none",
    "-monitor",
    "none",
    "-chardev",
    `file,id=console0,path=${q(spec.consolePath)},append=on`,
    "-serial",
    "chardev:console0",
    "-qmp",
    `unix:${q(run.qmpPath)},server=on,wait=off`,
    "-daemonize",
    "-pidfile",
    run.pidPath,
  ];
  if (spec.kernel) {
    a.push("-kernel", spec.kernel);
    if (spec.ramdisk) a.push("-initrd", spec.ramdisk);
    if (spec.kernelArgs) a.push("-append", spec.kernelArgs);
  }
  spec.disks.forEach((d, i) => {
    if (d.volumeId) {
      // A volume (the root of an EBS-backed guest): the same block node and device a hot-plug makes.
      const { objects, blockdev } = blockdevOf(d, d.iscsi ? run.secretPath?.(d.device) : undefined);
      for (const obj of objects) a.push("-object", JSON.stringify(obj));
      a.push("-blockdev", JSON.stringify(blockdev));
      const dev = diskDevice(d);
      a.push(
        "-device",
        [
          dev.driver,
          ...Object.entries(dev)
            .filter(([k]) => k !== "driver")
            .map(([k, v]) => `${k}=${q(v)}`),
        ].join(",") + (i === 0 && !spec.kernel ? ",bootindex=0" : ""),
      );
      return;
    }
    a.push("-drive", `file=${q(d.path)},format=raw,if=none,id=disk${i}${d.readOnly ? ",readonly=on" : ""}`);
    a.push(
      "-device",
      `virtio-blk-pci,drive=disk${i},id=${q(d.device)}${i === 0 && !spec.kernel ? ",bootindex=0" : ""}`,
    );
  });
  const nic = spec.nics[0];
  if (!nic || run.net.mode === "none") {
    a.push("-nic", "none");
  } else if (run.net.mode === "tap") {
    a.push(
      "-netdev",
      `tap,id=net0,ifname=${q(run.net.ifname)},script=no,downscript=no`,
      "-device",
      `virtio-net-pci,netdev=net0,mac=${nic.mac}`,
    );
  } else {
    // Host forwards are added over QMP once QEMU runs (one that cannot bind must not stop the guest).
    const opts = [
      "user",
      `id=${NETDEV_ID}`,
      "restrict=on",
      `net=${USER_NET.net}`,
      `host=${USER_NET.host}`,
      `dhcpstart=${USER_NET.dhcpStart}`,
    ];
    if (run.net.metadataCommand) opts.push(`guestfwd=tcp:169.254.169.254:80-cmd:${q(run.net.metadataCommand)}`);
    a.push("-netdev", opts.join(","), "-device", `virtio-net-pci,netdev=net0,mac=${nic.mac}`);
  }
  return a;
}
