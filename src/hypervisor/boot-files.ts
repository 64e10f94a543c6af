import { existsSync } from "node:fs";
import { HypervisorError, type DomainSpec } from "./types";

/**
 * Refuses a start whose kernel, ramdisk or disk files are missing, naming the file (before
 * the platform is asked). A volume served over NBD or iSCSI is no file here: QEMU opens it.
 */
export function checkBootFiles(spec: DomainSpec): void {
  for (const [what, f] of [
    ["kernel", spec.kernel],
    ["ramdisk", spec.ramdisk],
    ...spec.disks.filter((d) => !d.nbd && !d.iscsi).map((d) => [`disk ${d.device}`, d.path]),
  ] as const) {
    if (f && !existsSync(f)) throw new HypervisorError("start-failed", `${what} ${f} does not exist`);
  }
}
