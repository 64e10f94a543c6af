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
import { endpointsFor, recordServedEndpoints, urlHost, userTls, type CloudEndpoints } from "./config/endpoints";
import { ensureWebCertificate } from "./roles/clc/web/web-certificate";
import { createHeartbeatApp } from "./server/heartbeat";
import { listen, type Listening } from "./server/listen";
import { plainOnly } from "./server/plain-side";
import { createRpcApp } from "./rpc/http-server";
import { componentKeyLookup, readComponentKeys } from "./rpc/key-file";
import { loadHostTls, Revocations, serverTlsOptions } from "./rpc/host-tls";
import { peerOf } from "./rpc/identity";
import { metadataAppAskingClc } from "./api/metadata/node-responder";
import { gatewayAnswersMetadata } from "./config/network";
import { ensureCloudCa } from "./roles/clc/identity/cloud-ca";
import { ensureHeadCertificate, headAddresses, headIdentities } from "./roles/clc/identity/head-certificate";
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
import { followHead, headInternalApp } from "./compose/site-link";
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
  internal: Partial<Record<"cc" | "nc" | "clc", string>>;
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
  // This host's certificate: a host that joined has one; the head makes its own from its CA below.
  let hostTls = loadHostTls(layout);
  let revocations: Revocations | undefined;
  // On a host that joined: the site settings it runs with other values than the head's.
  let sitePending: () => string[] = () => [];
  const a: Assembly = {
    settings: s,
    clock: o.clock ?? systemClock,
    ids: o.ids ?? randomIdsWith({ longIds: s.longIds }),
    log: o.log,
    layout,
    version: __EUCA_VERSION__,
    has: (r) => s.roles.includes(r),
    lookupKey: componentKeyLookup(layout.componentKeys),
    hostTls: () => hostTls,
    revoked: (serial) => revocations?.has(serial) ?? false,
    mainApp: new Hono(),
    plainApp: new Hono(),
    endpoints: () => bound,
    sitePending: () => sitePending(),
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
    let clcRemote: () => readonly string[] = () => [];
    for (const app of [a.mainApp, a.plainApp]) {
      app.route(
        "/",
        createHeartbeatApp(
          () => [...ready].map(([role, r]) => ({ role, ready: r })),
          () => clcRemote(),
        ),
      );
      // Nothing but the heartbeat is served before every role is ready (503 makes clients retry).
      app.use("*", async (c, next) => {
        if ([...ready.values()].every(Boolean)) return next();
        return c.text("euca is starting\n", 503, { "retry-after": "1" });
      });
    }

    const ca = a.has("clc") ? (await ensureCloudCa(layout, a.clock.now())).ca : undefined;
    if (ca) {
      await ensureHeadCertificate(layout, ca, {
        identities: headIdentities(s.roles, s.clusterName),
        addresses: headAddresses(s.host),
        now: a.clock.now(),
      });
      hostTls = loadHostTls(layout);
    }
    // The user-facing listeners' certificate: the web interface's, and EC2's and S3's with TLS on.
    const tlsForUsers = userTls(s);
    const userCert =
      ca || tlsForUsers
        ? await ensureWebCertificate({
            dir: layout.webDir,
            ca,
            host: s.host,
            s3Domain: s.s3Domain,
            certFile: s.webCert,
            keyFile: s.webKey,
            now: a.clock.now(),
          })
        : undefined;
    const userListenerTls = tlsForUsers && userCert ? { cert: userCert.certPem, key: userCert.keyPem } : undefined;
    if (hostTls) {
      revocations = new Revocations(layout.revocations, hostTls.caPem);
      await revocations.refresh();
      const timer = setInterval(() => void revocations!.refresh().catch(() => undefined), 2000);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    let internalUrl: string | undefined;
    // The head's clients, made once (each keeps its TLS connections): asked per guest metadata request and image fetch.
    let headMetadata: MetadataClient | undefined;
    let headWalrus: WalrusClient | undefined;
    const remoteMd = () => (headMetadata ??= remoteMetadata(a));
    const remoteW = () => (headWalrus ??= remoteWalrus(a));
    // One store of the running settings: the properties and the web's settings page change them.
    const settings = createSettingsStore({ values: s, configFile: o.configFile, given: o.given });

    // Bottom-up, so in-process clients can be handed upwards.
    let walrus: WalrusClient | undefined;
    const sc = a.has("sc") ? assembleStorage(a, { walrus: () => walrus ?? remoteW() }) : undefined;
    const storage = sc?.service;
    let metadata: MetadataClient | undefined;
    const nodes = a.has("nc")
      ? await assembleNodes(a, {
          probe: o.probe ?? realHostProbe,
          walrus: () => walrus ?? remoteW(),
          metadata: () => metadata ?? remoteMd(),
        })
      : undefined;
    const cluster = a.has("cc") ? assembleCluster(a, nodes?.nodes ?? []) : undefined;
    const clc = a.has("clc")
      ? await assembleClc(a, {
          cluster: cluster?.service,
          storage,
          walrus: () => walrus,
          internalUrl: () => internalUrl,
          settings,
        })
      : undefined;
    if (clc) clcRemote = clc.watch.lines;
    const identity = clc?.clc.identity;
    // Nodes fetch images with their cluster's key (known to a CLC here) or their own (known to a CC here).
    const componentKeys = (id: string) =>
      a.lookupKey(id) ?? (clc && clusterKeySecret(clc.clc.db, id)) ?? (cluster && nodeKeySecret(cluster.db, id));
    const w = a.has("walrus") ? assembleWalrus(a, { identity, componentKeys }) : undefined;
    walrus = w?.client;
    await sc?.recover();
    const metadataService = clc?.metadataService(metadataCallers(clc.clc.db, cluster?.db));
    if (clc && metadataService) {
      // A node asks only of its own guests (roles/clc/metadata/metadata-callers.ts).
      const service = metadataService;
      a.plainApp.route(
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

    // A CC without its CLC (a host that joined) answers its guests' metadata, asking the CLC over mutual TLS.
    if (cluster && !clc && hostTls && gatewayAnswersMetadata(s))
      a.plainApp.route(
        "/",
        metadataAppAskingClc({
          clock: a.clock,
          ids: a.ids,
          log: a.log,
          guestAt: cluster.guestAt,
          client: remoteMd,
        }),
      );

    const servers: Listening[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((l) => l.close()));
    });
    const serve = async (
      app: Hono,
      port: number,
      deferContinue?: (path: string) => boolean,
      tls?: { cert: string; key: string },
      plain?: Hono | false,
    ) => {
      const l = await listen(app, s.host, port, { deferContinue, tls, plain: plain || undefined });
      servers.push(l);
      return l.port;
    };
    a.mainApp.route("/", a.plainApp);
    // S3 handlers send 100 Continue once a request would be accepted (api/s3/context.ts).
    const mainPort = await serve(
      a.mainApp,
      s.ec2Port,
      w && ((path) => WALRUS_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`))),
      userListenerTls,
      // With HTTPS for users, what speaks plain HTTP to this port gets only the plain app.
      userListenerTls && plainOnly(a.plainApp),
    );
    const s3Port = w
      ? await serve(w.s3App, s.s3Port, () => true, userListenerTls, userListenerTls && plainOnly(new Hono()))
      : s.s3Port;
    const internal: Cloud["internal"] = {};
    // With a host certificate, internal listeners take mutual TLS only; without, calls signed with installed keys.
    const tls = hostTls && serverTlsOptions(hostTls);
    const scheme = tls ? "https" : "http";
    const rpc = { lookupKey: tls ? undefined : a.lookupKey, revoked: a.revoked, clock: a.clock, log: a.log };
    if (cluster && !a.has("clc")) {
      // The zone's SC answers beside its CC (the CLC reaches both; the SC also the cluster's nodes).
      const zone = s.clusterName;
      const app = new Hono().route(
        "/",
        createRpcApp({
          role: "cc",
          service: cluster.service,
          methods: CLUSTER_METHODS,
          accepts: peerOf(["clc"]),
          ...rpc,
        }),
      );
      if (storage)
        app.route(
          "/",
          createRpcApp({
            role: "sc",
            service: storage,
            methods: STORAGE_METHODS,
            accepts: peerOf(["clc", "cc", "nc"], zone),
            ...rpc,
          }),
        );
      internal.cc = `${scheme}://${urlHost(s.host)}:${await serve(app, s.ccPort, undefined, tls)}`;
    }
    if (nodes && !a.has("cc")) {
      const app = createRpcApp({
        role: "nc",
        service: nodes.nodes[0]!.service,
        methods: NODE_METHODS,
        accepts: peerOf(["cc"], s.clusterName),
        ...rpc,
      });
      internal.nc = `${scheme}://${urlHost(s.host)}:${await serve(app, s.ncPort, undefined, tls)}`;
    }
    // The head's listener for other hosts; on a host that joined, following the head.
    if (clc && hostTls && !(a.has("cc") && a.has("nc"))) {
      const app = headInternalApp(a, { clc, walrus: w?.internalApp, metadata: metadataService!, settings });
      await revocations!.install(await clc.joins.revocationList());
      internalUrl = `https://${urlHost(s.host)}:${await serve(app, s.internalPort, undefined, serverTlsOptions(hostTls))}`;
      internal.clc = internalUrl;
    } else if (hostTls && revocations && s.clcUrl) {
      const follower = followHead(a, { tls: hostTls, revocations, configFile: o.configFile });
      sitePending = follower.pending;
      cleanups.push(follower.stop);
    }

    bound = endpointsFor(s, { ec2: mainPort, s3: s3Port });
    if (clc) recordServedEndpoints(s.dataDir, { ...bound, ...(internalUrl ? { internalUrl } : {}) });
    const webAssembly =
      clc &&
      (await assembleWeb(a, {
        clc,
        walrus: w?.service,
        roles: () => [...ready].map(([role, r]) => ({ role, ready: r })),
        settings,
        cert: userCert!,
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

/**
 * How this host reaches the head when the CLC and Walrus run elsewhere: over mutual TLS
 * with its host certificate at an https URL (a host that joined), else signed with the
 * key issued to this host: the cluster's (by the CLC) or, on a node-only host, the node's.
 */
function headCredentials(a: Assembly, url: string) {
  const tls = a.hostTls();
  if (url.startsWith("https:")) return tls && { tls };
  const installed = url ? readComponentKeys(a.layout.componentKeys) : [];
  const key = installed.find((k) => k.role === "cc") ?? installed.find((k) => k.role === "nc");
  return key && { key };
}

/** Without the CLC here, nodes that answer their guests' metadata ask the head's. */
function remoteMetadata(a: Assembly): MetadataClient | undefined {
  const url = a.settings.clcUrl || a.settings.walrusUrl;
  const auth = url ? headCredentials(a, url) : undefined;
  return (
    auth &&
    createHttpClient<MetadataClient>(METADATA_METHODS, {
      baseUrl: url,
      role: METADATA_ROLE,
      ...auth,
      clock: a.clock,
      ids: a.ids,
    })
  );
}

/** Without Walrus here, nodes (images) and the SC (snapshots) reach the head's. */
function remoteWalrus(a: Assembly): WalrusClient | undefined {
  const url = a.settings.walrusUrl;
  const auth = url ? headCredentials(a, url) : undefined;
  return auth && createHttpWalrusClient({ baseUrl: url, ...auth, clock: a.clock, ids: a.ids });
}
