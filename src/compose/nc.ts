/** The node controllers of this process, from the settings they read. */
import { openLocalNodes, type LocalNode } from "../roles/nc/local-nodes";
import type { HostProbe } from "../roles/nc/host-probe";
import type { WalrusClient } from "../roles/walrus/client";
import type { Assembly } from "./assembly";

export async function assembleNodes(a: Assembly, o: { probe: HostProbe; walrus: () => WalrusClient | undefined }): Promise<{ nodes: LocalNode[]; hypervisor: string }> {
  const s = a.settings;
  // Guests' 169.254.169.254: the CLC's EC2 port here, or the head's (WALRUS_URL) on a cluster host.
  const metadata = () => {
    const url = a.has("clc") ? a.endpoints()?.ec2Url : s.walrusUrl || undefined;
    if (!url) return undefined;
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
  };
  return openLocalNodes({
    options: {
      dataDir: s.dataDir, hypervisor: s.hypervisor, qemuAccel: s.qemuAccel, fakeNodes: s.fakeNodes, withCc: a.has("cc"), ncCacheMb: s.ncCacheMb,
      maxMem: s.maxMem, maxCores: s.maxCores, maxDisk: s.maxDisk, vnetMode: s.vnetMode, vnetPrivInterface: s.vnetPrivInterface, vnetSegment: s.vnetSegment,
    },
    layout: a.layout, probe: o.probe, clock: a.clock, log: a.log, version: a.version, walrus: o.walrus, metadata, cleanups: a.cleanups,
  });
}
