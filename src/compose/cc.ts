/**
 * This host's cluster controller: its database, its nodes (in this process or registered
 * from other hosts), the cluster service (./cc-service.ts), its rounds, and in the modes
 * with a host network the gateway (checked at start: config/network.ts).
 */
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { runProgram } from "../common/run-program";
import { recordStart } from "../db/role-meta";
import { checkGatewayHost, dhcpDirOf, gatewaySettingsOf, gatewayUnderlay, isBridged } from "../config/network";
import { metadataTarget, networkPlanOf } from "../config/network";
import { createNetworkExecutor } from "../net/executor";
import { createInProcessClient } from "../rpc/in-process";
import { createHttpClient } from "../rpc/http-client";
import { openCcDatabase, type CcDatabase } from "../roles/cc/database";
import type { ClusterNode } from "../roles/cc/node-monitor";
import { isNodeOnHost, listRemoteNodes, nodeAddressOf, type RemoteNode } from "../roles/cc/node-registry";
import type { HostTls } from "../rpc/host-tls";
import { createNodeRequests } from "../roles/cc/node-requests";
import { startClusterSync } from "../roles/cc/cluster-sync";
import { NODE_METHODS, type NodeClient } from "../roles/nc/client";
import type { LocalNode } from "../roles/nc/local-nodes";
import { assembleClusterService, type ManagedParts } from "./cc-service";
import { instanceAtAddress } from "../roles/cc/networks";
import type { Assembly } from "./assembly";
import { join } from "node:path";

export { assembleClusterService, type ClusterParts, type ManagedParts } from "./cc-service";

/**
 * The nodes of a cluster: those in this process, then those registered from other hosts
 * (mutual TLS with this host's certificate at an https URL, signed HTTP at an http one),
 * each client made once per URL so its connections are kept.
 */
export function clusterNodes(
  db: CcDatabase,
  local: readonly LocalNode[],
  o: { clock: Clock; ids: IdGenerator; tls?: HostTls },
): () => ClusterNode[] {
  const here = local.map((n) => ({ name: n.name, client: createInProcessClient(NODE_METHODS, n.service) }));
  const clients = new Map<string, NodeClient>();
  const clientOf = (n: RemoteNode) => {
    const id = `${n.name} ${n.url}`;
    let c = clients.get(id);
    if (!c) {
      c = createHttpClient<NodeClient>(NODE_METHODS, {
        baseUrl: n.url,
        role: "nc",
        key: n.key,
        tls: o.tls,
        clock: o.clock,
        ids: o.ids,
      });
      clients.set(id, c);
    }
    return c;
  };
  return () => [...here, ...listRemoteNodes(db).map((n) => ({ name: n.name, client: clientOf(n) }))];
}

export function assembleCluster(a: Assembly, local: readonly LocalNode[]) {
  const s = a.settings;
  const db = openCcDatabase(a.layout.database("cc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const here = new Set(local.map((n) => n.name));
  const { service, monitor, network, managed } = assembleClusterService({
    name: s.clusterName,
    host: s.host,
    db,
    nodes: clusterNodes(db, local, { clock: a.clock, ids: a.ids, tls: a.hostTls() }),
    clock: a.clock,
    ids: a.ids,
    version: a.version,
    settingsPending: a.sitePending,
    log: a.log,
    pollMs: s.nodePollSeconds * 1000,
    policy: s.schedPolicy,
    downMs: s.nodeDownSeconds * 1000,
    unknownMs: s.unknownInstanceSeconds * 1000,
    power:
      s.schedPolicy === "POWERSAVE"
        ? { idleMs: s.powerIdleSeconds * 1000, wakeMs: s.powerWakeSeconds * 1000 }
        : undefined,
    plan: networkPlanOf(s),
    managed: isBridged(s) ? gatewayParts(a, db, here) : undefined,
    isLocalNode: isNodeOnHost(db, here, s.host),
  });
  a.cleanups.push(monitor.start()); // stops (and waits for its round) before the database closes
  const requests = createNodeRequests({ db, cluster: service, clock: a.clock, log: a.log });
  a.cleanups.push(requests.stop); // a drain under way ends before the database closes
  const sync = startClusterSync({ pollMs: s.nodePollSeconds * 1000, requests, network, service, managed, log: a.log });
  a.cleanups.push(sync.stop);
  return { service, db, reconcile: sync.reconcile, guestAt: (ip: string) => instanceAtAddress(db, ip) };
}

/** The gateway of a cluster with a host network: this host, for its nodes at the underlay address. */
function gatewayParts(a: Assembly, db: CcDatabase, here: ReadonlySet<string>): ManagedParts {
  const s = a.settings;
  checkGatewayHost(s);
  // Guests' metadata: this process's main listener when the CLC runs here, or when this CC
  // answers them itself (a host that joined: it asks the CLC over mutual TLS); else VNET_CLOUDIP.
  const metadataUrl = () => (a.has("clc") || a.hostTls() ? a.endpoints()?.metadataUrl : undefined);
  return {
    gateway: () => gatewaySettingsOf(s, metadataTarget(s, metadataUrl())),
    executor: createNetworkExecutor({
      run: runProgram,
      dir: join(s.dataDir, "cc", "net"),
      dhcpDir: dhcpDirOf(s.dataDir),
      log: a.log,
    }),
    nodeAddress: nodeAddressOf(db, gatewayUnderlay(s), (node) => here.has(node)),
  };
}
