/**
 * The node controllers of this process: the machine's own node, or — with the fake
 * hypervisor and --fake-nodes N — a simulated rack of N nodes behind the CC in the
 * same process (scale simulation: bench/scale runs 10 clusters of 100). Each node has
 * its own database, image cache, instance directory and fake host, as separate
 * machines would.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { DataDirLayout } from "../../common/data-dir";
import { recordStart } from "../../db/role-meta";
import {
  ConfigError,
  isBridged,
  isLan,
  type HypervisorName,
  type QemuAccelSetting,
  type VnetMode,
} from "../../config/settings";
import { runCommand } from "../../common/run-command";
import { createNetworkExecutor } from "../../net/executor";
import { NODE_TOOLS, requireLanBridge, requireNetworkTools, requireVlanSupport } from "../../net/tools";
import type { HostNetwork } from "../../net/host-network";
import { portMacOf, tapName } from "../../hypervisor/tap-name";
import { createNodeNetwork, type NodeNetwork } from "./node-network";
import { createHypervisor, describeHypervisor } from "../../hypervisor/select";
import type { WalrusClient } from "../walrus/client";
import type { HostProbe } from "./host-probe";
import { openNcDatabase } from "./database";
import { NodeImageCache } from "./image-cache";
import { createNodeService, type NodeLimits } from "./service";

export type NodeService = ReturnType<typeof createNodeService>;

export interface LocalNode {
  name: string;
  service: NodeService;
  /** Its part of the cluster's network (every mode but ROOTLESS). */
  network?: NodeNetwork;
}

/** What the node controllers of this process are told (the settings they read, nothing more). */
export interface LocalNodesOptions {
  dataDir: string;
  hypervisor: HypervisorName;
  qemuAccel: QemuAccelSetting;
  /** Simulated nodes (fake driver only); 1 = this machine's own node. */
  fakeNodes: number;
  /** Whether a CC runs in this process (simulated nodes are its in-process nodes). */
  withCc: boolean;
  ncCacheMb: number;
  /** Caps on what a node offers (0 = none); with the fake driver, the simulated node's size. */
  maxMem: number;
  maxCores: number;
  maxDisk: number;
  /** Every mode but ROOTLESS: the node takes its part of the cluster network (segments or LAN ports, guest filters). */
  vnetMode: VnetMode;
  /** SYSTEM and STATIC: the site's LAN bridge guests join. */
  vnetBridge: string;
  /** MANAGED with vlan segments: the interface on the VLAN-clean LAN. */
  vnetPrivInterface: string;
  vnetSegment: "vxlan" | "vlan";
  /** This host's address: where live migrations into its node listen. */
  host: string;
}

export interface LocalNodesDeps {
  options: LocalNodesOptions;
  layout: DataDirLayout;
  probe: HostProbe;
  clock: Clock;
  log: Logger;
  version: string;
  walrus: () => WalrusClient | undefined;
  /** The metadata service guests reach as 169.254.169.254 (known once the CLC listens). */
  metadata: () => { host: string; port: number } | undefined;
  /** Told what each node's network is once applied (the metadata responder of the LAN modes). */
  networkApplied?: (net: HostNetwork) => void;
  /** Where each node registers what must run at shutdown (drain before the database closes). */
  cleanups: Array<() => Promise<void> | void>;
}

/** Memory the host keeps for itself (dom0 / the OS). */
const RESERVED_MB = 256;

export async function openLocalNodes(d: LocalNodesDeps): Promise<{ nodes: LocalNode[]; hypervisor: string }> {
  const s = d.options;
  if (s.fakeNodes > 1 && s.hypervisor !== "fake")
    throw new ConfigError(`--fake-nodes ${s.fakeNodes} simulates nodes and needs --hypervisor fake`);
  if (s.fakeNodes > 1 && !s.withCc)
    throw new ConfigError(
      "--fake-nodes above 1 needs the cc role in the same process (the simulated nodes are its in-process nodes)",
    );
  const limits: NodeLimits = {
    reservedMemoryMb: RESERVED_MB,
    maxMemoryMb: s.maxMem || undefined,
    maxCores: s.maxCores || undefined,
    maxDiskGb: s.maxDisk || undefined,
  };
  const simulated = s.fakeNodes > 1;
  const bridged = isBridged(s);
  if (bridged && simulated)
    throw new ConfigError(
      `--fake-nodes ${s.fakeNodes} cannot share one host's network in VNET_MODE ${s.vnetMode}; simulate nodes with ROOTLESS`,
    );
  if (bridged) requireNetworkTools("nc", s.vnetMode, NODE_TOOLS);
  if (s.vnetMode === "MANAGED" && s.vnetSegment === "vlan") requireVlanSupport("nc");
  if (isLan(s)) requireLanBridge(s.vnetMode, s.vnetBridge);
  const nodes: LocalNode[] = [];
  let hypervisor = "";
  for (let i = 1; i <= Math.max(1, s.fakeNodes); i++) {
    const name = simulated ? `node-${String(i).padStart(3, "0")}` : "local";
    const root = simulated ? join(s.dataDir, "nc", "sim", name) : join(s.dataDir, "nc");
    const instancesDir = simulated ? join(root, "instances") : d.layout.instancesDir;
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const db = openNcDatabase(simulated ? join(root, "nc.db") : d.layout.database("nc"));
    d.cleanups.push(() => db.close());
    recordStart(db.db, d.version, d.clock.now());
    // A fake host is what MAX_MEM / MAX_CORES / MAX_DISK say (a simulated machine), else this machine.
    const host = {
      memoryMb: s.maxMem || d.probe.memoryMb() - RESERVED_MB,
      cores: s.maxCores || d.probe.cores(),
      diskGb: s.maxDisk || d.probe.diskGb(instancesDir),
    };
    const hv = await createHypervisor(s.hypervisor, {
      stateDir: (driver) => join(root, driver),
      fakeHost: host,
      clock: d.clock,
      log: d.log,
      qemuAccel: s.qemuAccel,
      metadata: d.metadata,
    });
    const probe: HostProbe =
      hv.capabilities().name === "fake"
        ? { memoryMb: () => host.memoryMb + RESERVED_MB, cores: () => host.cores, diskGb: () => host.diskGb }
        : d.probe;
    hypervisor = describeHypervisor(hv, s.hypervisor);
    const images = new NodeImageCache(join(root, "cache"), s.ncCacheMb * 1024 * 1024, d.walrus);
    const network: NodeNetwork | undefined = bridged
      ? createNodeNetwork({
          executor: createNetworkExecutor({
            run: runCommand,
            dir: join(root, "net"),
            dhcpDir: join(root, "net", "dhcp"),
            log: d.log,
          }),
          file: join(root, "net", "view.json"),
          port: { tapOf: tapName, macOf: portMacOf(hv.capabilities().name) },
          privDev: s.vnetPrivInterface,
          log: d.log,
          applied: d.networkApplied,
        })
      : undefined;
    const service = createNodeService({
      db,
      hypervisor: hv,
      images,
      probe,
      instancesDir,
      limits,
      clock: d.clock,
      log: simulated ? d.log.child({ node: name }) : d.log,
      network,
      host: s.host,
    });
    await service.adopt();
    await network?.restore();
    d.cleanups.push(() => service.drain()); // runs before the database closes (cleanups run in reverse)
    nodes.push({ name, service, network });
  }
  return { nodes, hypervisor };
}
