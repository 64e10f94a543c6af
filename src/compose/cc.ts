/**
 * A cluster controller from its parts: its database, its nodes (in this process or
 * registered from other hosts), the node monitor and the network plan. Tests that
 * wire a CC by hand use assembleClusterService with nodes of their own.
 */
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { recordStart } from "../db/role-meta";
import { privateSubnet, type Policy, type Settings } from "../config/settings";
import { createInProcessClient } from "../rpc/in-process";
import { createHttpClient } from "../rpc/http-client";
import { openCcDatabase, type CcDatabase } from "../roles/cc/database";
import { createClusterService } from "../roles/cc/service";
import { createNodeMonitor, type ClusterNode, type PowerPolicy } from "../roles/cc/node-monitor";
import { listRemoteNodes } from "../roles/cc/node-registry";
import { createNetworkService, type NetworkPlan } from "../roles/cc/networks";
import { createInstanceNetwork } from "../roles/cc/instance-network";
import { every } from "../common/periodic";
import { NODE_METHODS, type NodeClient } from "../roles/nc/client";
import type { LocalNode } from "../roles/nc/local-nodes";
import type { Assembly } from "./assembly";

export interface ClusterParts {
  name: string;
  host: string;
  db: CcDatabase;
  nodes: () => ClusterNode[];
  clock: Clock;
  log: Logger;
  pollMs: number;
  policy: Policy;
  power?: PowerPolicy;
  plan: NetworkPlan;
}

/** The cluster service and its monitor (started: stop it with the returned function). */
export function assembleClusterService(p: ClusterParts) {
  const networks = createNetworkService({ db: p.db, clock: p.clock, plan: p.plan });
  const monitor = createNodeMonitor({ nodes: p.nodes, db: p.db, clock: p.clock, log: p.log, pollMs: p.pollMs, power: p.power });
  const network = createInstanceNetwork({ db: p.db, clock: p.clock, log: p.log, monitor });
  const service = createClusterService({ name: p.name, host: p.host, monitor, log: p.log, db: p.db, clock: p.clock, policy: p.policy, networks, network });
  return { service, monitor, network };
}

/** The nodes of a cluster: those in this process, then those registered from other hosts (signed HTTP). */
export function clusterNodes(db: CcDatabase, local: readonly LocalNode[], o: { clock: Clock; ids: IdGenerator }): () => ClusterNode[] {
  const here = local.map((n) => ({ name: n.name, client: createInProcessClient(NODE_METHODS, n.service) }));
  return () => [
    ...here,
    ...listRemoteNodes(db).map((n) => ({ name: n.name, client: createHttpClient<NodeClient>(NODE_METHODS, { baseUrl: n.url, role: "nc", key: n.key, clock: o.clock, ids: o.ids }) })),
  ];
}

export function networkPlanOf(s: Pick<Settings, "vnetSubnet" | "hypervisor" | "vnetAddrsPerNet">): NetworkPlan {
  const [a, b] = privateSubnet(s).split(".").map(Number);
  return { subnet: [a!, b!], addrsPerNet: s.vnetAddrsPerNet };
}

export function assembleCluster(a: Assembly, local: readonly LocalNode[]) {
  const s = a.settings;
  const db = openCcDatabase(a.layout.database("cc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const { service, monitor, network } = assembleClusterService({
    name: s.clusterName, host: s.host, db, nodes: clusterNodes(db, local, a), clock: a.clock, log: a.log, pollMs: s.nodePollSeconds * 1000, policy: s.schedPolicy,
    power: s.schedPolicy === "POWERSAVE" ? { idleMs: s.powerIdleSeconds * 1000, wakeMs: s.powerWakeSeconds * 1000 } : undefined, plan: networkPlanOf(s),
  });
  a.cleanups.push(monitor.start()); // stops (and waits for its round) before the database closes
  // Every instance's network is pushed again at start and, for nodes that missed a change, on each poll.
  network.markAll();
  a.cleanups.push(every(s.nodePollSeconds * 1000, (n) => network.push({ requestId: `cc-network-${n}` }), (e) => a.log.error({ err: e }, "cc: network sync failed")));
  return { service, db };
}
