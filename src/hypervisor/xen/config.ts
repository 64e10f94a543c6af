/**
 * The xl.cfg for one instance (xl.cfg(5)). Pure, so every line is tested, and each
 * configuration it writes is re-parsed by the real `xl -N create` where CI can run it.
 */
import { HypervisorError, type DomainSpec } from "../types";

export type XenGuestType = "pv" | "hvm";

import { tapName } from "../tap-name";

/** xl.cfg strings are double-quoted; inside disk/vif specs values may not hold `,` or `'`. */
function str(v: string): string {
  if (/["\n\\]/.test(v)) throw new Error(`xl.cfg value ${JSON.stringify(v)} cannot be written`);
  return `"${v}"`;
}

function specItem(v: string, what: string): string {
  if (/[,'\n]/.test(v)) throw new Error(`${what} ${JSON.stringify(v)} cannot appear in an xl disk or vif spec`);
  return v;
}

export function xlConfig(spec: DomainSpec, type: XenGuestType = "pv"): string {
  const lines = [
    `name = ${str(spec.instanceId)}`,
    `type = ${str(type)}`,
    `memory = ${spec.memoryMb}`,
    `vcpus = ${spec.cores}`,
  ];
  if (spec.kernel) {
    lines.push(`kernel = ${str(spec.kernel)}`);
    if (spec.ramdisk) lines.push(`ramdisk = ${str(spec.ramdisk)}`);
    if (spec.kernelArgs) lines.push(`extra = ${str(spec.kernelArgs)}`);
  } else if (type === "pv") {
    lines.push(`bootloader = "pygrub"`); // a PV guest without a kernel boots the disk's own
  }
  // target= must come last: everything after it is the path.
  const disks = spec.disks.map((d) => {
    // xl opens files: a volume its SC serves from another host (an EBS-backed guest's root) is for QEMU's own clients.
    if (d.nbd || d.iscsi)
      throw new HypervisorError(
        "unsupported",
        `the xen driver opens disks as files, and ${d.volumeId ?? d.device} is served over ` +
          `${d.nbd ? "NBD" : "iSCSI"} from its storage controller's host: run such instances on QEMU/KVM nodes, or on the SC's own host`,
      );
    const target = specItem(d.path, "disk path");
    return `'format=${d.format ?? "raw"}, vdev=${specItem(d.device, "device")}, access=${d.readOnly ? "ro" : "rw"}, target=${target}'`;
  });
  lines.push(`disk = [ ${disks.join(", ")} ]`);
  // On a bridge the vif is named as every driver names a guest's card, so the node's filter finds it.
  const vifs = spec.nics.map(
    (n) =>
      `'${[`mac=${specItem(n.mac, "MAC")}`, ...(n.mode === "bridge" ? [`bridge=${specItem(n.bridge, "bridge")}`, `vifname=${tapName(spec.instanceId)}`] : [])].join(",")}'`,
  );
  lines.push(`vif = [ ${vifs.join(", ")} ]`);
  if (type === "hvm") lines.push(`serial = "pty"`);
  // A crashed guest is kept (shown as crashed) until the NC has read why and destroys it.
  lines.push(`on_poweroff = "destroy"`, `on_reboot = "restart"`, `on_crash = "preserve"`);
  return lines.join("\n") + "\n";
}
