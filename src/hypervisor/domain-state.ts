/**
 * What every driver keeps the same way, written once: instance ids as domain names,
 * a per-domain state file (the spec it was started with, when, and the disks attached
 * since), the attached-disk bookkeeping around the platform's own attach and detach,
 * and the answer of a driver that cannot power its host down.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../common/files";
import { isResourceId } from "../common/ids";
import { HypervisorError, type DiskSpec, type DomainSpec } from "./types";

export const isInstanceId = (id: string): boolean => isResourceId("instance", id);

/** Domains are named by instance id; anything else names no domain (and never a path). */
export function checkInstanceId(id: string): string {
  if (!isInstanceId(id)) throw new HypervisorError("not-found", `'${id}' is not an instance id`);
  return id;
}

/** A domain's state file: what it was started with, when, and the disks attached since; drivers may add fields. */
export interface DomainRecord {
  spec: DomainSpec;
  startedAt: string;
  attached: DiskSpec[];
}

export class DomainFiles<R extends DomainRecord> {
  /** `pathOf(id)`: where the domain's state file lives (the id is checked first). */
  constructor(private readonly pathOf: (id: string) => string) {}

  path(id: string): string {
    return this.pathOf(checkInstanceId(id));
  }

  read(id: string): R | undefined {
    const f = this.path(id);
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as R) : undefined;
  }

  write(id: string, r: R): void {
    writeFileAtomic(this.path(id), JSON.stringify(r), 0o600);
  }

  remove(id: string): void {
    rmSync(this.path(id), { force: true });
  }

  /** Every disk of a domain: those it started with and those attached since. */
  static disks(r: DomainRecord): DiskSpec[] {
    return [...r.spec.disks, ...r.attached];
  }

  /** Attaches through `platform` (refusing a device in use), then records it. */
  async attach(id: string, r: R, disk: DiskSpec, platform: () => Promise<void>): Promise<void> {
    if (DomainFiles.disks(r).some((d) => d.device === disk.device))
      throw new HypervisorError("device-busy", `device ${disk.device} is in use on ${id}`);
    await platform();
    this.write(id, { ...r, attached: [...r.attached, disk] });
  }

  /** Detaches through `platform` (refusing a device that was not attached), then records it. */
  async detach(id: string, r: R, device: string, platform: () => Promise<void>): Promise<void> {
    if (!r.attached.some((d) => d.device === device))
      throw new HypervisorError("not-attached", `no device ${device} on ${id}`);
    await platform();
    this.write(id, { ...r, attached: r.attached.filter((d) => d.device !== device) });
  }
}

/** powerDown/powerUp of a driver whose host never sleeps (no Wake-on-LAN in this release). */
export function noPowerControl(driver: string) {
  return {
    async powerDown(): Promise<void> {
      throw new HypervisorError(
        "unsupported",
        `the ${driver} driver cannot power its host down (no Wake-on-LAN in this release)`,
      );
    },
    async powerUp(): Promise<void> {
      // A host that never sleeps is always up.
    },
  };
}
