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
import { createUnknownGuests, type UnknownGuests } from "../roles/cc/unknown-guests";
import { createNodeRequests } from "../roles/cc/node-requests";
import { createDrain, type Drain } from "../roles/cc/drain";
import { createNetworkService, type Lease, type NetworkPlan } from "../roles/cc/networks";
import { createInstanceNetwork } from "../roles/cc/instance-network";
import { every } from "../common/periodic";
import { NODE_METHODS, type NodeClient } from "../roles/nc/client";
import type { LocalNode } from "../roles/nc/local-nodes";
import type { Assembly } from "./assembly";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ConfigError, isBridged, parseMacMap } from "../config/settings";
import { runCommand } from "../common/run-command";
import { createNetworkExecutor, type NetworkExecutor } from "../net/executor";
import { segmentLinks } from "../net/managed";
import type { LanSettings, NetworkMode } from "../net/view";
import { lanCidrOf } from "../net/lan";
import { GATEWAY_TOOLS, LAN_GATEWAY_TOOLS, requireNetworkTools, requireVlanSupport } from "../net/tools";
import type { GatewaySettings } from "../roles/cc/cluster-view";
import { createManagedNetwork } from "../roles/cc/managed-network";

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
  });
  return { service, monitor, network, managed: managed?.network };
}

/** The nodes of a cluster: those in this process, then those registered from other hosts (signed HTTP). */
export function clusterNodes(
  db: CcDatabase,
  local: readonly LocalNode[],
  o: { clock: Clock; ids: IdGenerator },
): () => ClusterNode[] {
  const here = local.map((n) => ({ name: n.name, client: createInProcessClient(NODE_METHODS, n.service) }));
  return () => [
    ...here,
    ...listRemoteNodes(db).map((n) => ({
      name: n.name,
      client: createHttpClient<NodeClient>(NODE_METHODS, {
        baseUrl: n.url,
        role: "nc",
        key: n.key,
        clock: o.clock,
        ids: o.ids,
      }),
    })),
  ];
}

export function networkPlanOf(
  s: Pick<Settings, "vnetSubnet" | "hypervisor" | "vnetAddrsPerNet" | "vnetMode" | "vnetMacMap">,
): NetworkPlan {
  const [a, b] = privateSubnet(s).split(".").map(Number);
  const lan =
    s.vnetMode === "SYSTEM" || s.vnetMode === "STATIC"
      ? { mode: s.vnetMode, macMap: parseMacMap(s.vnetMacMap) }
      : undefined;
  return { subnet: [a!, b!], addrsPerNet: s.vnetAddrsPerNet, ...(lan ? { lan } : {}) };
}

export function assembleCluster(a: Assembly, local: readonly LocalNode[]) {
  const s = a.settings;
  const db = openCcDatabase(a.layout.database("cc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const plan = networkPlanOf(s);
  const { service, monitor, network, managed } = assembleClusterService({
    name: s.clusterName,
    host: s.host,
    db,
    nodes: clusterNodes(db, local, a),
    clock: a.clock,
    log: a.log,
    pollMs: s.nodePollSeconds * 1000,
    policy: s.schedPolicy,
    downMs: s.nodeDownSeconds * 1000,
    unknownMs: s.unknownInstanceSeconds * 1000,
    power:
      s.schedPolicy === "POWERSAVE"
        ? { idleMs: s.powerIdleSeconds * 1000, wakeMs: s.powerWakeSeconds * 1000 }
        : undefined,
    plan,
    managed: isBridged(s) ? managedParts(a, db, plan, local) : undefined,
    isLocalNode: (node) =>
      local.some((n) => n.name === node) ||
      listRemoteNodes(db).some((n) => n.name === node && new URL(n.url).hostname === s.host),
  });
  a.cleanups.push(monitor.start()); // stops (and waits for its round) before the database closes
  const requests = createNodeRequests({ db, cluster: service, clock: a.clock, log: a.log });
  a.cleanups.push(requests.stop); // a drain under way ends before the database closes
  // Every instance's network is pushed again at start and, for nodes that missed a change, on each poll.
  network.markAll();
  a.cleanups.push(
    every(
      s.nodePollSeconds * 1000,
      async (n) => {
        requests.poll({ requestId: `cc-admin-${n}` });
        await network.push({ requestId: `cc-network-${n}` });
        await service.learnAddresses({ requestId: `cc-network-${n}` });
        await managed?.sync({ requestId: `cc-network-${n}` });
      },
      (e) => a.log.error({ err: e }, "cc: network sync failed"),
    ),
  );
  /** Once the listeners are bound (the metadata redirect names the CLC's port): the network reconciled with what the CC records. */
  const reconcile = () => {
    if (!managed) return;
    const started = Date.now();
    void managed
      .sync({ requestId: "cc-start" })
      .then(() => a.log.info({ ms: Date.now() - started }, "cc: network reconciled"))
      .catch((e: Error) =>
        a.log.error({ err: e.message }, "cc: reconciling the network failed; retried on the next poll"),
      );
  };
  return { service, db, reconcile };
}

/**
 * The gateway of a MANAGED cluster: this host, at VNET_LOCALIP (or --host) for the nodes'
 * VXLAN links, sending guests' metadata requests to the CLC (its EC2 port here, or
 * VNET_CLOUDIP's on another host). Guests cannot be sent to a loopback address.
 */
function managedParts(a: Assembly, db: CcDatabase, plan: NetworkPlan, local: readonly LocalNode[]): ManagedParts {
  const s = a.settings;
  requireNetworkTools(
    "cc",
    s.vnetMode,
    s.vnetMode === "SYSTEM" || s.vnetMode === "STATIC" ? LAN_GATEWAY_TOOLS[s.vnetMode] : GATEWAY_TOOLS,
  );
  if (s.vnetMode === "MANAGED" && s.vnetSegment === "vlan") requireVlanSupport("cc");
  if (s.vnetMode === "STATIC" && !plan.lan?.macMap.length)
    throw new ConfigError(
      "VNET_MODE STATIC: VNET_MACMAP (--vnet-mac-map) gives no MAC=IP pairs; instances would have no address to take",
    );
  const underlay = s.vnetLocalIp || s.host;
  if (underlay.startsWith("127."))
    throw new ConfigError(
      `VNET_MODE ${s.vnetMode}: the CC's address for its nodes (VNET_LOCALIP, else --host) is ${underlay}, a loopback address; give one on the cluster's network`,
    );
  const metadata = () => {
    const url = a.has("clc") && !s.vnetCloudIp ? a.endpoints()?.ec2Url : undefined;
    if (url) return { ip: new URL(url).hostname, port: Number(new URL(url).port || 80) };
    return { ip: s.vnetCloudIp || s.host, port: s.ec2Port };
  };
  const here = new Set(local.map((n) => n.name));
  const dir = join(s.dataDir, "cc", "net");
  return {
    gateway: () => gatewaySettingsOf(s, metadata()),
    executor: createNetworkExecutor({ run: runCommand, dir, dhcpDir: dhcpDirOf(s.dataDir), log: a.log }),
    nodeAddress: nodeAddressOf(db, underlay, (node) => here.has(node)),
  };
}

/** The gateway as the settings describe it (the CC's, and `euca admin network`'s reading of it). */
export function gatewaySettingsOf(s: Settings, metadata?: { ip: string; port: number }): GatewaySettings {
  const plan = networkPlanOf(s);
  return {
    mode: s.vnetMode as NetworkMode,
    plan,
    underlay: s.vnetLocalIp || s.host,
    publicDev: s.vnetPubInterface,
    metadata,
    dns: s.vnetDns || undefined,
    dhcpUser: s.vnetDhcpUser,
    segment: s.vnetMode === "MANAGED" ? s.vnetSegment : "vxlan",
    privDev: s.vnetPrivInterface,
    ...(plan.lan ? { lan: lanSettingsOf(s, plan.lan) } : {}),
  };
}

/** SYSTEM and STATIC's LAN: the nodes' bridge and, in STATIC, the CC's DHCP on VNET_PRIVINTERFACE at its address. */
function lanSettingsOf(s: Settings, lan: NonNullable<NetworkPlan["lan"]>): LanSettings {
  const first = lan.macMap[0];
  if (lan.mode === "SYSTEM" || !first) return { bridge: s.vnetBridge };
  return {
    bridge: s.vnetBridge,
    dhcp: {
      dev: s.vnetPrivInterface,
      server: s.vnetLocalIp || s.host,
      cidr: lanCidrOf(first.ip, s.vnetNetmask),
      ...(s.vnetRouter ? { router: s.vnetRouter } : {}),
      ...(s.vnetBroadcast ? { broadcast: s.vnetBroadcast } : {}),
    },
  };
}

/** A node's VXLAN end: the host of the URL it registered with, or the CC's own address for a node in this process. */
export function nodeAddressOf(
  db: CcDatabase,
  underlay: string,
  isLocal: (node: string) => boolean,
): (node: string) => string | undefined {
  return (node) => {
    if (isLocal(node)) return underlay;
    const r = listRemoteNodes(db).find((n) => n.name === node);
    return r ? new URL(r.url).hostname : undefined;
  };
}

/**
 * dnsmasq re-reads its files as an unprivileged user after it has bound, so they live
 * outside the data directory (which is private): under /run, one directory per data dir.
 */
function dhcpDirOf(dataDir: string): string {
  return `/run/euca/dhcp-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`;
}
