/**
 * A cluster service from its parts: its database, its nodes, the node monitor, the
 * network plan and (in the modes with a host network) its gateway. compose/cc.ts gives
 * it this host's parts; tests that wire a CC by hand give it nodes of their own.
 */
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import type { Policy } from "../config/settings";
import type { NetworkExecutor } from "../net/executor";
import { segmentLinks } from "../net/managed";
import type { GatewaySettings, NetworkPlan } from "../net/view";
import type { CcDatabase } from "../roles/cc/database";
import { createClusterService } from "../roles/cc/service";
import { createNodeMonitor, type ClusterNode, type PowerPolicy } from "../roles/cc/node-monitor";
import { createUnknownGuests, type UnknownGuests } from "../roles/cc/unknown-guests";
import { createDrain, type Drain } from "../roles/cc/drain";
import { createNetworkService, type Lease } from "../roles/cc/networks";
import { createInstanceNetwork } from "../roles/cc/instance-network";
import { createManagedNetwork } from "../roles/cc/managed-network";

import { forgetNode, joinNode } from "../roles/cc/node-registry";
import type { IdGenerator } from "../common/ids";

export interface ClusterParts {
  name: string;
  host: string;
  db: CcDatabase;
  nodes: () => ClusterNode[];
  clock: Clock;
  log: Logger;
  pollMs: number;
  /** NODE_DOWN_SECONDS and UNKNOWN_INSTANCE_SECONDS, in ms. */
  downMs: number;
  unknownMs: number;
  policy: Policy;
  power?: PowerPolicy;
  plan: NetworkPlan;
  managed?: ManagedParts;
  /** Whether a node shares this host (default: none do). */
  isLocalNode?: (node: string) => boolean;
  ids: IdGenerator;
  version?: string;
  settingsPending?: () => string[];
}

/** What the MANAGED modes add to a cluster: the gateway's settings and its executor. */
export interface ManagedParts {
  gateway: () => GatewaySettings;
  executor: NetworkExecutor;
  /** The underlay address of a node (its VXLAN end). */
  nodeAddress: (node: string) => string | undefined;
}

/** The cluster service and its monitor (started: stop it with the returned function). */
export function assembleClusterService(p: ClusterParts) {
  const networks = createNetworkService({ db: p.db, clock: p.clock, plan: p.plan });
  let unknown: UnknownGuests | undefined;
  let drain: Drain | undefined;
  const monitor = createNodeMonitor({
    nodes: p.nodes,
    db: p.db,
    clock: p.clock,
    log: p.log,
    pollMs: p.pollMs,
    power: p.power,
    downMs: p.downMs,
    afterPoll: async (views, ctx) => {
      await unknown!.review(views, ctx);
      await drain!.settle(ctx);
    },
  });
  unknown = createUnknownGuests({ db: p.db, clock: p.clock, log: p.log, unknownMs: p.unknownMs, node: monitor.node });
  const network = createInstanceNetwork({ db: p.db, clock: p.clock, log: p.log, monitor, pushForwards: !p.managed });
  const m = p.managed;
  const managed = m && {
    mode: m.gateway().mode,
    network: createManagedNetwork({
      db: p.db,
      gateway: m.gateway,
      executor: m.executor,
      nodes: p.nodes,
      nodeAddress: m.nodeAddress,
      log: p.log,
      clock: p.clock,
    }),
    bridgeOf: (l: Lease) => m.gateway().lan?.bridge ?? segmentLinks(m.gateway().mode, l.network.vlan).bridge,
  };
  drain = createDrain({ db: p.db, monitor, clock: p.clock, log: p.log, policy: p.policy, managed: managed?.network });
  const service = createClusterService({
    name: p.name,
    host: p.host,
    monitor,
    log: p.log,
    db: p.db,
    clock: p.clock,
    policy: p.policy,
    networks,
    network,
    unknown,
    drain,
    managed,
    isLocalNode: p.isLocalNode ?? (() => false),
    version: p.version,
    settingsPending: p.settingsPending,
    registry: {
      add: (node, url) => joinNode(p.db, node, url, p.clock, p.ids),
      remove: (node) => forgetNode(p.db, node),
    },
  });
  return { service, monitor, network, managed: managed?.network };
}
