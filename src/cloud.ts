/**
 * The composition root: builds every started role from Settings, wires role clients
 * (in-process when the target runs here, signed HTTP otherwise), opens the listeners
 * and returns a handle to stop it all. Nothing here is module state, so one process
 * can run two clouds (tests do).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./common/clock";
import { every } from "./common/periodic";
import { randomIds, type IdGenerator } from "./common/ids";
import { dataDirLayout, type DataDirLayout } from "./common/data-dir";
import { recordStart } from "./db/role-meta";
import { openSimpleRoleDatabase } from "./db/simple-role-db";
import type { RoleName, Settings } from "./config/settings";
import { endpointsFor, recordServedEndpoints, urlHost } from "./config/endpoints";
import { securePrivateDataDir } from "./common/private-files";
import { createEc2App } from "./api/ec2/app";
import { createMetadataApp } from "./api/metadata/app";
import { createS3App } from "./api/s3/app";
import { openWalrus } from "./roles/walrus/service";
import type { WalrusClient } from "./roles/walrus/client";
import type { Requester } from "./roles/walrus/acl";
import { createInProcessWalrusClient } from "./roles/walrus/in-process-client";
import { createWalrusRpcApp } from "./roles/walrus/rpc";
import { ImageCache } from "./roles/walrus/image-cache";
import { createHeartbeatApp } from "./server/heartbeat";
import { listen, type Listening } from "./server/listen";
import { createInProcessClient } from "./rpc/in-process";
import { createHttpClient } from "./rpc/http-client";
import { createRpcApp } from "./rpc/http-server";
import { componentKeyLookup, readComponentKeys } from "./rpc/key-file";
import type { IdentityService } from "./roles/clc/identity-service";
import { openClc } from "./roles/clc/open-clc";
import { createImageService } from "./roles/clc/images";
import { createTagService } from "./roles/clc/tags";
import { createInstanceService } from "./roles/clc/instances";
import { createAddressService, expandIpRanges } from "./roles/clc/addresses";
import { createZoneService, type RegisteredCluster } from "./roles/clc/zones";
import { createRegionService } from "./roles/clc/regions";
import { clusterKeySecret, listRemoteClusters } from "./roles/clc/cluster-registry";
import type { ClcDatabase } from "./roles/clc/database";
import { createHttpWalrusClient } from "./roles/walrus/http-client";
import type { CloudEndpoints, CredentialFiles } from "./roles/clc/credentials";
import { openCcDatabase, type CcDatabase } from "./roles/cc/database";
import { createClusterService } from "./roles/cc/service";
import { createNodeMonitor, type ClusterNode } from "./roles/cc/node-monitor";
import { CLUSTER_METHODS, type ClusterClient } from "./roles/cc/client";
import { listRemoteNodes, nodeKeySecret } from "./roles/cc/node-registry";
import { createNetworkService } from "./roles/cc/networks";
import { openLocalNodes } from "./roles/nc/local-nodes";
import { NODE_METHODS, type NodeClient } from "./roles/nc/client";
import { realHostProbe, type HostProbe } from "./roles/nc/host-probe";

export interface CloudOptions {
  settings: Settings;
  log: Logger;
  clock?: Clock;
  ids?: IdGenerator;
  probe?: HostProbe;
}

export interface Cloud {
  settings: Settings;
  layout: DataDirLayout;
  endpoints: CloudEndpoints & { heartbeatUrl: string };
  /** The hypervisor driver the NC uses, when an NC runs here. */
  hypervisor?: string;
  /** Internal RPC listeners, when a role serves callers in other processes. */
  internal: Partial<Record<"cc" | "nc", string>>;
  identity?: IdentityService;
  /** Walrus for roles in this process (image bundles, snapshots), when Walrus runs here. */
  walrusClient?: WalrusClient;
  adminCredentials?: CredentialFiles;
  stop(): Promise<void>;
}

export async function startCloud(o: CloudOptions): Promise<Cloud> {
  const s = o.settings;
  const clock = o.clock ?? systemClock;
  const ids = o.ids ?? randomIds;
  const log = o.log;
  const layout = dataDirLayout(s.dataDir);
  const has = (r: RoleName) => s.roles.includes(r);
  const cleanups: Array<() => Promise<void> | void> = [];
  const ready = new Map<RoleName, boolean>(s.roles.map((r) => [r, false]));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const fn of [...cleanups].reverse()) await fn();
    })());

  try {
    for (const m of securePrivateDataDir(s.dataDir)) log.warn(m, "data directory: made private what other local users could read");
    const lookupKey = componentKeyLookup(layout.componentKeys);

    // Databases and services, bottom-up so in-process clients can be handed upwards.
    let hypervisorName: string | undefined;
    for (const role of ["sc"] as const) {
      if (!has(role)) continue;
      const db = openSimpleRoleDatabase(role, layout.database(role));
      cleanups.push(() => db.close());
      recordStart(db.db, __EUCA_VERSION__, clock.now());
    }
    let walrusClient: WalrusClient | undefined;
    const endpointsRef: { current?: CloudEndpoints } = {};
    // Without Walrus here, nodes reach the head's Walrus signed with the key issued to this
    // host: the cluster's (by the CLC) or, on a node-only host, the node's (by its CC).
    const remoteWalrus = () => {
      const installed = s.walrusUrl ? readComponentKeys(layout.componentKeys) : [];
      const key = installed.find((k) => k.role === "cc") ?? installed.find((k) => k.role === "nc");
      return key && createHttpWalrusClient({ baseUrl: s.walrusUrl, key, clock, ids });
    };
    // Guests' 169.254.169.254: the CLC's EC2 port here, or the head's (WALRUS_URL) on a cluster host.
    const metadata = () => {
      const url = has("clc") ? endpointsRef.current?.ec2Url : s.walrusUrl || undefined;
      if (!url) return undefined;
      const u = new URL(url);
      return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80) };
    };
    const local = has("nc")
      ? await openLocalNodes({
        options: {
          dataDir: s.dataDir, hypervisor: s.hypervisor, qemuAccel: s.qemuAccel, fakeNodes: s.fakeNodes, withCc: has("cc"), ncCacheMb: s.ncCacheMb,
          maxMem: s.maxMem, maxCores: s.maxCores, maxDisk: s.maxDisk,
        },
        layout, probe: o.probe ?? realHostProbe, clock, log, version: __EUCA_VERSION__, walrus: () => walrusClient ?? remoteWalrus(), metadata, cleanups })
      : undefined;
    hypervisorName = local?.hypervisor;

    let cluster: ClusterClient | undefined;
    let ccDbRef: CcDatabase | undefined;
    if (has("cc")) {
      const ccDb = openCcDatabase(layout.database("cc"));
      ccDbRef = ccDb;
      cleanups.push(() => ccDb.close());
      recordStart(ccDb.db, __EUCA_VERSION__, clock.now());
      const localNodes = (local?.nodes ?? []).map((n) => ({ name: n.name, client: createInProcessClient(NODE_METHODS, n.service) }));
      const nodes = (): ClusterNode[] => [
        ...localNodes,
        ...listRemoteNodes(ccDb).map((n) => ({
          name: n.name,
          client: createHttpClient<NodeClient>(NODE_METHODS, { baseUrl: n.url, role: "nc", key: n.key, clock, ids }),
        })),
      ];
      // Fake instances get loopback addresses, so a local client can speak as one (metadata tests).
      // Loopback addresses unless guests sit on real bridges (xen): the fake driver's instances and
      // rootless QEMU guests are told apart by the metadata service through them.
      const subnet = (s.vnetSubnet || (s.hypervisor === "xen" ? "10.128.0.0/16" : "127.64.0.0/16")).split(".").map(Number);
      const networks = createNetworkService({ db: ccDb, clock, plan: { subnet: [subnet[0]!, subnet[1]!], addrsPerNet: s.vnetAddrsPerNet } });
      const monitor = createNodeMonitor({
        nodes, db: ccDb, clock, log, pollMs: s.nodePollSeconds * 1000,
        power: s.schedPolicy === "POWERSAVE" ? { idleMs: s.powerIdleSeconds * 1000, wakeMs: s.powerWakeSeconds * 1000 } : undefined,
      });
      cleanups.push(monitor.start()); // stops (and waits for its round) before the database closes
      cluster = createClusterService({ name: s.clusterName, host: s.host, monitor, log, db: ccDb, clock, policy: s.schedPolicy, networks });
    }

    const mainApp = new Hono();
    mainApp.route("/", createHeartbeatApp(() => [...ready].map(([role, r]) => ({ role, ready: r }))));
    // Nothing but the heartbeat is served before every role is ready (503 makes clients retry).
    mainApp.use("*", async (c, next) => {
      if ([...ready.values()].every(Boolean)) return next();
      return c.text("euca is starting\n", 503, { "retry-after": "1" });
    });
    const endpoints = () => {
      if (!endpointsRef.current) throw new Error("endpoints are not known before the listeners are bound");
      return endpointsRef.current;
    };

    let identity: IdentityService | undefined;
    let clcDb: ClcDatabase | undefined;
    let finishClc: (() => Promise<CredentialFiles>) | undefined;
    let reconcileInstances: (() => Promise<string[]>) | undefined;
    let startSync: (() => void) | undefined;
    if (has("clc")) {
      const clc = await openClc({ layout, clock, ids, endpoints });
      clcDb = clc.db;
      cleanups.push(() => clc.close());
      identity = clc.identity;
      const localCluster = cluster ? createInProcessClient(CLUSTER_METHODS, cluster) : undefined;
      const clusters = (): RegisteredCluster[] => [
        ...(localCluster ? [{ name: s.clusterName, client: localCluster }] : []),
        ...listRemoteClusters(clc.db).map((c) => ({
          name: c.name,
          client: createHttpClient<ClusterClient>(CLUSTER_METHODS, { baseUrl: c.url, role: "cc", key: c.key, clock, ids }),
        })),
      ];
      const images = createImageService({
        db: clc.db, clock, ids, cloudKeyPem: clc.ca.keyPem, walrus: () => walrusClient,
        certificatesOfAccount: (a) => clc.identity.certificatesOfAccount(a),
      });
      const fake = s.hypervisor === "fake" || s.hypervisor === "auto";
      const addressService = createAddressService({
        db: clc.db, ids, maxPerUser: s.maxAddressesPerUser,
        // The fake hypervisor's laptop cloud gets a loopback pool, so public addresses work locally too.
        pool: expandIpRanges(s.publicIps || (fake ? "127.65.0.2-127.65.0.254" : "")),
      });
      const services = {
        zones: createZoneService({ region: s.region, clusters, vmTypes: clc.vmTypes }),
        regions: createRegionService(endpoints),
        keyPairs: clc.keyPairs,
        securityGroups: clc.securityGroups,
        images,
        tags: createTagService(clc.db),
        addresses: addressService,
        instances: createInstanceService({
          db: clc.db, clock, ids, clusters, images, keyPairs: clc.keyPairs, groups: clc.securityGroups, vmTypes: clc.vmTypes,
          // Fake instances get loopback addresses, so a local client can speak as one (metadata tests).
          addresses: addressService,
        }),
      };
      mainApp.route("/", createEc2App({ clock, ids, log, identity: clc.identity, services }));
      reconcileInstances = () => services.instances.reconcile({ requestId: ids.requestId() });
      const syncInstances = services.instances.sync;
      startSync = () => cleanups.push(every(s.nodePollSeconds * 1000, (n) => syncInstances({ requestId: `clc-sync-${n}` }), (e) => log.error({ err: e }, "clc: instance sync failed")));
      mainApp.route("/", createMetadataApp({
        clock, ids, log,
        sources: {
          byAddress: (ip) => services.instances.byAddress(ip),
          publicIpOf: (id) => services.instances.publicIpOf(id),
          groupsOf: (i) => services.instances.groupsOf(i),
          imageLocation: (imageId, accountId) => {
            try {
              return images.attribute({ accountId, isAdmin: true }, imageId).location;
            } catch {
              return ""; // deregistered since launch
            }
          },
          keyOf: (accountId, name) => {
            try {
              const k = clc.keyPairs.describe({ accountId }, [name])[0];
              return k && { name: k.name, publicKey: k.publicKey };
            } catch {
              return undefined; // deleted since launch
            }
          },
          region: s.region,
        },
      }));
      // The admin's eucarc needs the bound endpoints: written once the listeners are up.
      finishClc = async () => (await clc.identity.ensureAdmin()).credentials;
    }
    let s3App: Hono | undefined;
    if (has("walrus")) {
      const walrus = openWalrus(layout, {
        clock, log,
        systemAccount: () => identity?.systemAccountId() ?? "",
        quotas: { maxBucketsPerUser: s.walrusMaxBuckets, maxBucketBytes: s.walrusMaxBucketMb * 1024 * 1024 },
      });
      cleanups.push(() => walrus.close());
      if (walrus.swept.tmp || walrus.swept.orphans) log.warn({ swept: walrus.swept }, "walrus: removed what an interrupted write left behind");
      // Users are authenticated by the CLC's identity service; without a CLC in this
      // process only anonymous requests (public ACLs) can succeed.
      const s3Identity = {
        lookupSecret: (k: string) => identity?.lookupSecret(k),
        principal: (k: string) => identity?.principal(k),
        accountName: (id: string) => identity?.accountName(id),
      };
      const s3 = (prefixes: string[]) => createS3App({ clock, ids, log, walrus: walrus.service, identity: s3Identity, prefixes, virtualHostDomain: s.s3Domain });
      mainApp.route("/", s3(["/services/Walrus", "/services/objectstorage"]));
      s3App = s3([""]);
      const system = (): Requester => ({ accountId: identity?.systemAccountId() ?? "", userName: "system", isAdmin: true });
      // Decrypting bundles needs the cloud's private key: present where the CLC's keys are.
      const images = existsSync(layout.cloudKey)
        ? new ImageCache(join(layout.walrusDir, "image-cache"), s.walrusImageCacheMb * 1024 * 1024, walrus.service, system, () => readFileSync(layout.cloudKey, "utf8"))
        : undefined;
      walrusClient = createInProcessWalrusClient(walrus.service, system, images);
      // Nodes fetch images with their cluster's key (known to a CLC here) or their own (known to a CC here).
      const walrusKeys = (id: string) => lookupKey(id) ?? (clcDb && clusterKeySecret(clcDb, id)) ?? (ccDbRef && nodeKeySecret(ccDbRef, id));
      mainApp.route("/", createWalrusRpcApp({ walrus: walrusClient, lookupKey: walrusKeys, clock, log }));
    }

    const servers: Listening[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((l) => l.close()));
    });
    const main = await listen(mainApp, s.host, s.ec2Port);
    servers.push(main);
    let s3Port = s.s3Port;
    if (s3App) {
      const s3 = await listen(s3App, s.host, s.s3Port);
      servers.push(s3);
      s3Port = s3.port;
    }
    const internal: Cloud["internal"] = {};
    if (cluster && !has("clc")) {
      const l = await listen(createRpcApp({ role: "cc", service: cluster, methods: CLUSTER_METHODS, lookupKey, clock, log }), s.host, s.ccPort);
      servers.push(l);
      internal.cc = `http://${urlHost(s.host)}:${l.port}`;
    }
    if (local && !has("cc")) {
      const l = await listen(createRpcApp({ role: "nc", service: local.nodes[0]!.service, methods: NODE_METHODS, lookupKey, clock, log }), s.host, s.ncPort);
      servers.push(l);
      internal.nc = `http://${urlHost(s.host)}:${l.port}`;
    }

    endpointsRef.current = endpointsFor(s, { ec2: main.port, s3: s3Port });
    if (has("clc")) recordServedEndpoints(s.dataDir, endpointsRef.current);
    const adminCredentials = finishClc ? await finishClc() : undefined;
    if (reconcileInstances) {
      const lost = await reconcileInstances();
      if (lost.length) log.warn({ instances: lost }, "clc: terminated instances whose launch a restart interrupted");
    }
    startSync?.(); // stops (waiting for its round) before the databases close
    for (const role of ready.keys()) ready.set(role, true);

    return {
      settings: s,
      layout,
      endpoints: { ...endpointsRef.current, heartbeatUrl: `http://${urlHost(s.host)}:${main.port}/services/Heartbeat` },
      internal,
      identity,
      walrusClient,
      hypervisor: hypervisorName,
      adminCredentials,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
