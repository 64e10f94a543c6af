/** One node controller of this process, in its slot: database, hypervisor, image cache, network, service. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runProgram } from "../common/run-program";
import { recordStart } from "../db/role-meta";
import { createNetworkExecutor } from "../net/executor";
import type { HostNetwork } from "../net/host-network";
import { portMacOf, tapName } from "../hypervisor/tap-name";
import { createHypervisor, describeHypervisor } from "../hypervisor/select";
import { openNcDatabase } from "../roles/nc/database";
import { NodeImageCache } from "../roles/nc/image-cache";
import type { HostProbe } from "../roles/nc/host-probe";
import { fakeHostOf, fakeHostProbe, nodeLimits, type LocalNode, type NodeSlot } from "../roles/nc/local-nodes";
import { createNodeNetwork } from "../roles/nc/node-network";
import { createNodeService } from "../roles/nc/service";
import type { WalrusClient } from "../roles/walrus/client";
import type { Assembly } from "./assembly";

export interface NodeParts {
  probe: HostProbe;
  walrus: () => WalrusClient | undefined;
  /** The metadata service guests reach as 169.254.169.254 (known once the CLC listens). */
  metadata: () => { host: string; port: number } | undefined;
  /** Whether the node takes its part of a cluster network (every mode but ROOTLESS). */
  hostNetwork: boolean;
  /** Told what the node's network is once applied (the metadata responder of the LAN modes). */
  networkApplied?: (net: HostNetwork) => void;
}

export async function assembleNode(
  a: Assembly,
  slot: NodeSlot,
  p: NodeParts,
): Promise<{ node: LocalNode; hypervisor: string }> {
  const s = a.settings;
  mkdirSync(slot.root, { recursive: true, mode: 0o700 });
  const db = openNcDatabase(slot.database);
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const host = fakeHostOf(s, p.probe, slot.instancesDir);
  const hv = await createHypervisor(s.hypervisor, {
    stateDir: (driver) => join(slot.root, driver),
    fakeHost: host,
    clock: a.clock,
    log: a.log,
    qemuAccel: s.qemuAccel,
    metadata: p.metadata,
  });
  const netDir = join(slot.root, "net");
  const network = p.hostNetwork
    ? createNodeNetwork({
        executor: createNetworkExecutor({ run: runProgram, dir: netDir, dhcpDir: join(netDir, "dhcp"), log: a.log }),
        file: join(netDir, "view.json"),
        port: { tapOf: tapName, macOf: portMacOf(hv.capabilities().name) },
        privDev: s.vnetPrivInterface,
        log: a.log,
        applied: p.networkApplied,
      })
    : undefined;
  const service = createNodeService({
    db,
    hypervisor: hv,
    images: new NodeImageCache(join(slot.root, "cache"), s.ncCacheMb * 1024 * 1024, p.walrus),
    probe: hv.capabilities().name === "fake" ? fakeHostProbe(host) : p.probe,
    instancesDir: slot.instancesDir,
    limits: nodeLimits(s),
    clock: a.clock,
    log: slot.simulated ? a.log.child({ node: slot.name }) : a.log,
    network,
    host: s.host,
  });
  await service.adopt();
  await network?.restore();
  a.cleanups.push(() => service.drain()); // runs before the database closes (cleanups run in reverse)
  return { node: { name: slot.name, service, network }, hypervisor: describeHypervisor(hv, s.hypervisor) };
}
