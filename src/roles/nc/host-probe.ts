import { cpus, totalmem } from "node:os";
import { mkdirSync, statfsSync } from "node:fs";

/** What the node has, as the hypervisor-independent host sees it. Injected so tests control it. */
export interface HostProbe {
  memoryMb(): number;
  cores(): number;
  /** Free plus used-by-euca space under `dir`, in GB. */
  diskGb(dir: string): number;
}

export const realHostProbe: HostProbe = {
  memoryMb: () => Math.floor(totalmem() / 1024 / 1024),
  cores: () => cpus().length,
  diskGb: (dir) => {
    mkdirSync(dir, { recursive: true });
    const s = statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / 1024 ** 3);
  },
};
