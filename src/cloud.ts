/**
 * The composition root: starts the roles of this process in order through their
 * assemblers (src/compose/, one per role: each builds its role from its parts and
 * wires its clients, in-process when the target runs here, signed HTTP otherwise),
 * opens the listeners and returns a handle to stop it all. It holds no policy.
 * Nothing here is module state, so one process can run two clouds (tests do).
 */
import { Hono } from "hono";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./common/clock";
import { randomIdsWith, type IdGenerator } from "./common/ids";
import { dataDirLayout, type DataDirLayout } from "./common/data-dir";
import { securePrivateDataDir } from "./common/private-files";
import type { RoleName, Settings } from "./config/settings";
import { endpointsFor, recordServedEndpoints, urlHost, type CloudEndpoints } from "./config/endpoints";
import { createHeartbeatApp } from "./server/heartbeat";
import { listen, type Listening } from "./server/listen";
import { createRpcApp } from "./rpc/http-server";
import { componentKeyLookup, readComponentKeys } from "./rpc/key-file";
import type { IdentityService } from "./roles/clc/identity/identity-service";
import { clusterKeySecret } from "./roles/clc/clusters/cluster-registry";
import { metadataCallers } from "./roles/clc/metadata/metadata-callers";
import { METADATA_METHODS, METADATA_ROLE, type MetadataClient } from "./roles/clc/metadata/metadata-rpc";
import { createInProcessClient } from "./rpc/in-process";
import { createHttpClient } from "./rpc/http-client";
import type { CredentialFiles } from "./roles/clc/identity/credentials";
import { CLUSTER_METHODS } from "./roles/cc/client";
import { STORAGE_METHODS } from "./roles/sc/client";
import { nodeKeySecret } from "./roles/cc/node-registry";
import { NODE_METHODS } from "./roles/nc/client";
import { realHostProbe, type HostProbe } from "./roles/nc/host-probe";
import type { WalrusClient } from "./roles/walrus/client";
import { createHttpWalrusClient } from "./roles/walrus/http-client";
import type { Assembly } from "./compose/assembly";
import { assembleNodes } from "./compose/nc";
import { assembleCluster } from "./compose/cc";
import { assembleClc } from "./compose/clc";
import { assembleWalrus, WALRUS_PREFIXES } from "./compose/walrus";
import { assembleStorage } from "./compose/sc";
import { assembleWeb } from "./compose/web";
import { createSettingsStore } from "./config/settings-store";

export interface CloudOptions {
  settings: Settings;
  log: Logger;
  clock?: Clock;
  ids?: IdGenerator;
  probe?: HostProbe;
  /** The config file the settings came from (the web interface's settings page writes to it). */
  configFile?: string;
  /** Which settings were given rather than defaulted (the settings page says so). */
  given?: ReadonlySet<keyof Settings>;
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
  /** The web interface, where the CLC runs: its URL, and the admin's first password on the start that made it. */
  web?: { url: string; adminPassword?: string; passwordFile: string };
  stop(): Promise<void>;
}

export async function startCloud(o: CloudOptions): Promise<Cloud> {
  const s = o.settings;
  const layout = dataDirLayout(s.dataDir);
  const cleanups: Assembly["cleanups"] = [];
  const ready = new Map<RoleName, boolean>(s.roles.map((r) => [r, false]));
  let bound: CloudEndpoints | undefined;
  const a: Assembly = {
    settings: s,
    clock: o.clock ?? systemClock,
    ids: o.ids ?? randomIdsWith({ longIds: s.longIds }),
    log: o.log,
    layout,
    version: __EUCA_VERSION__,
    has: (r) => s.roles.includes(r),
    lookupKey: componentKeyLookup(layout.componentKeys),
    mainApp: new Hono(),
    endpoints: () => bound,
    cleanups,
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const fn of [...cleanups].reverse()) await fn();
    })());

  try {
    for (const m of securePrivateDataDir(s.dataDir))
      a.log.warn(m, "data directory: made private what other local users could read");
    a.mainApp.route(
      "/",
      createHeartbeatApp(() => [...ready].map(([role, r]) => ({ role, ready: r }))),
    );
    // Nothing but the heartbeat is served before every role is ready (503 makes clients retry).
    a.mainApp.use("*", async (c, next) => {
      if ([...ready.values()].every(Boolean)) return next();
      return c.text("euca is starting\n", 503, { "retry-after": "1" });
    });

    // Bottom-up, so in-process clients can be handed upwards.
    let walrus: WalrusClient | undefined;
    const sc = a.has("sc") ? assembleStorage(a, { walrus: () => walrus ?? remoteWalrus(a) }) : undefined;
    const storage = sc?.service;
    let metadata: MetadataClient | undefined;
    const nodes = a.has("nc")
      ? await assembleNodes(a, {
          probe: o.probe ?? realHostProbe,
          walrus: () => walrus ?? remoteWalrus(a),
          metadata: () => metadata ?? remoteMetadata(a),
        })
      : undefined;
    const cluster = a.has("cc") ? assembleCluster(a, nodes?.nodes ?? []) : undefined;
    const clc = a.has("clc")
      ? await assembleClc(a, { cluster: cluster?.service, storage, walrus: () => walrus })
      : undefined;
    const identity = clc?.clc.identity;
    // Nodes fetch images with their cluster's key (known to a CLC here) or their own (known to a CC here).
    const componentKeys = (id: string) =>
      a.lookupKey(id) ?? (clc && clusterKeySecret(clc.clc.db, id)) ?? (cluster && nodeKeySecret(cluster.db, id));
    const w = a.has("walrus") ? assembleWalrus(a, { identity, componentKeys }) : undefined;
    walrus = w?.client;
    await sc?.recover();
    if (clc) {
      // A node asks only of its own guests (roles/clc/metadata/metadata-callers.ts).
      const service = clc.metadataService(metadataCallers(clc.clc.db, cluster?.db));
      a.mainApp.route(
        "/",
        createRpcApp({
          role: METADATA_ROLE,
          service,
          methods: METADATA_METHODS,
          lookupKey: componentKeys,
          clock: a.clock,
          log: a.log,
        }),
      );
      metadata = createInProcessClient(METADATA_METHODS, service);
    }

    const servers: Listening[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((l) => l.close()));
    });
    const serve = async (
      app: Hono,
      port: number,
      deferContinue?: (path: string) => boolean,
      tls?: { cert: string; key: string },
    ) => {
      const l = await listen(app, s.host, port, { deferContinue, tls });
      servers.push(l);
      return l.port;
    };
    // S3 handlers send 100 Continue once a request would be accepted (api/s3/context.ts).
    const mainPort = await serve(
      a.mainApp,
      s.ec2Port,
      w && ((path) => WALRUS_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`))),
    );
    const s3Port = w ? await serve(w.s3App, s.s3Port, () => true) : s.s3Port;
    const internal: Cloud["internal"] = {};
    const rpc = { lookupKey: a.lookupKey, clock: a.clock, log: a.log };
    if (cluster && !a.has("clc")) {
      // The zone's SC answers beside its CC (the CLC reaches both with the cluster's key).
      const app = new Hono().route(
        "/",
        createRpcApp({ role: "cc", service: cluster.service, methods: CLUSTER_METHODS, ...rpc }),
      );
      if (storage) app.route("/", createRpcApp({ role: "sc", service: storage, methods: STORAGE_METHODS, ...rpc }));
      internal.cc = `http://${urlHost(s.host)}:${await serve(app, s.ccPort)}`;
    }
    if (nodes && !a.has("cc"))
      internal.nc = `http://${urlHost(s.host)}:${await serve(createRpcApp({ role: "nc", service: nodes.nodes[0]!.service, methods: NODE_METHODS, ...rpc }), s.ncPort)}`;

    bound = endpointsFor(s, { ec2: mainPort, s3: s3Port });
    if (clc) recordServedEndpoints(s.dataDir, bound);
    const webAssembly =
      clc &&
      (await assembleWeb(a, {
        clc,
        walrus: w?.service,
        roles: () => [...ready].map(([role, r]) => ({ role, ready: r })),
        settings: createSettingsStore({ values: s, configFile: o.configFile, given: o.given }),
      }));
    const webPort = webAssembly && (await serve(webAssembly.app, s.webPort, undefined, webAssembly.tls));
    const adminCredentials = await clc?.start();
    const web = webAssembly && { ...(await webAssembly.start(webPort!)), passwordFile: webAssembly.passwordFile };
    cluster?.reconcile();
    for (const role of ready.keys()) ready.set(role, true);

    return {
      settings: s,
      layout,
      internal,
      identity,
      walrusClient: walrus,
      hypervisor: nodes?.hypervisor,
      adminCredentials,
      web,
      stop,
      endpoints: { ...bound, heartbeatUrl: `http://${urlHost(s.host)}:${mainPort}/services/Heartbeat` },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Without the CLC here, nodes that answer their guests' metadata ask the head's, signed as for Walrus. */
function remoteMetadata(a: Assembly): MetadataClient | undefined {
  const url = a.settings.walrusUrl;
  const installed = url ? readComponentKeys(a.layout.componentKeys) : [];
  const key = installed.find((k) => k.role === "cc") ?? installed.find((k) => k.role === "nc");
  return (
    key &&
    createHttpClient<MetadataClient>(METADATA_METHODS, {
      baseUrl: url,
      role: METADATA_ROLE,
      key,
      clock: a.clock,
      ids: a.ids,
    })
  );
}

/**
 * Without Walrus here, nodes reach the head's Walrus signed with the key issued to this
 * host: the cluster's (by the CLC) or, on a node-only host, the node's (by its CC).
 */
function remoteWalrus(a: Assembly): WalrusClient | undefined {
  const url = a.settings.walrusUrl;
  const installed = url ? readComponentKeys(a.layout.componentKeys) : [];
  const key = installed.find((k) => k.role === "cc") ?? installed.find((k) => k.role === "nc");
  return key && createHttpWalrusClient({ baseUrl: url, key, clock: a.clock, ids: a.ids });
}
