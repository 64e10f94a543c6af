/** The role-client transports' servers and clients, as the transport tests build them (tests/rpc). */
import type { Hono } from "hono";
import pino from "pino";
import { join } from "node:path";
import { createHttpClient } from "../../src/rpc/http-client";
import { createRpcApp } from "../../src/rpc/http-server";
import { listen } from "../../src/server/listen";
import { systemClock } from "../../src/common/clock";
import { randomIds } from "../../src/common/ids";
import { createNodeService } from "../../src/roles/nc/service";
import { assembleClusterService } from "../../src/compose/cc";
import { NODE_METHODS, type NodeClient } from "../../src/roles/nc/client";
import { CLUSTER_METHODS, type ClusterClient } from "../../src/roles/cc/client";
import { openNcDatabase } from "../../src/roles/nc/database";
import { openCcDatabase } from "../../src/roles/cc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import { peerOf } from "../../src/rpc/identity";
import { serverTlsOptions } from "../../src/rpc/host-tls";
import type { ComponentKey } from "../../src/rpc/types";
import type { CloudCa } from "../../src/roles/clc/identity/cloud-ca";
import { echoService, ECHO_METHODS, type EchoClient } from "../contracts/role-clients.contract";
import { tempDir, testProbe } from "./cloud";
import { hostTls } from "./pki";

const log = pino({ level: "silent" });

export function clusterOver(node: NodeClient) {
  return assembleClusterService({
    name: "cluster1",
    host: "127.0.0.1",
    db: openCcDatabase(join(tempDir("euca-cc-"), "cc.db")),
    nodes: () => [{ name: "n1", client: node }],
    clock: systemClock,
    ids: randomIds,
    log,
    pollMs: 0,
    policy: "GREEDY",
    plan: { subnet: [10, 128], addrsPerNet: 32 },
    downMs: 60_000,
    unknownMs: 900_000,
  }).service;
}

export function services() {
  const dir = tempDir("euca-nc-");
  const clock = systemClock;
  const node = createNodeService({
    db: openNcDatabase(join(dir, "nc.db")),
    hypervisor: new FakeHypervisor(join(dir, "fake"), { memoryMb: 4096, cores: 4, diskGb: 100 }, clock),
    images: new NodeImageCache(join(dir, "cache"), 1024 ** 3, () => undefined),
    probe: testProbe,
    instancesDir: join(dir, "instances"),
    limits: { reservedMemoryMb: 256 },
    clock,
    log,
  });
  return { node, echo: echoService() };
}

/** How the HTTP servers and clients prove who they are: keys (signed HTTP) or host certificates (mutual TLS). */
export type HttpAuth = { kind: "key"; key: ComponentKey } | { kind: "tls"; ca: CloudCa };

/**
 * NC, CC and the echo service each on their own port, CC → NC over HTTP too. Over TLS each
 * server holds its role's certificate and accepts what a site's would: the NC its
 * cluster's CC, the CC the CLC; the test calls as the CLC.
 */
export async function httpSetup(auth: HttpAuth) {
  const s = services();
  const opts = { clock: systemClock, ids: randomIds };
  const tls = auth.kind === "tls";
  const scheme = tls ? "https" : "http";
  const certs = tls
    ? {
        nc: await hostTls(auth.ca, [{ role: "nc", cluster: "cluster1", node: "n1" }]),
        cc: await hostTls(auth.ca, [{ role: "cc", cluster: "cluster1" }]),
        clc: await hostTls(auth.ca, [{ role: "clc" }, { role: "walrus" }]),
      }
    : undefined;
  const lookupKey =
    auth.kind === "key" ? (id: string) => (id === auth.key.id ? auth.key.secret : undefined) : undefined;
  const callerOf = (as: "cc" | "clc") => (certs ? { tls: certs[as] } : { key: (auth as { key: ComponentKey }).key });
  const serve = async (app: Hono, as?: "nc" | "cc" | "clc") =>
    listen(app, "127.0.0.1", 0, { tls: certs && as ? serverTlsOptions(certs[as]) : undefined });
  const server = { clock: systemClock, log, lookupKey };
  const ncL = await serve(
    createRpcApp({
      role: "nc",
      service: s.node,
      methods: NODE_METHODS,
      accepts: peerOf(["cc"], "cluster1"),
      ...server,
    }),
    "nc",
  );
  const node = createHttpClient<NodeClient>(NODE_METHODS, {
    baseUrl: `${scheme}://127.0.0.1:${ncL.port}`,
    role: "nc",
    ...callerOf("cc"),
    ...opts,
  });
  const cluster = clusterOver(node);
  const ccL = await serve(
    createRpcApp({ role: "cc", service: cluster, methods: CLUSTER_METHODS, accepts: peerOf(["clc"]), ...server }),
    "cc",
  );
  const echoL = await serve(
    createRpcApp({ role: "echo", service: s.echo, methods: ECHO_METHODS, accepts: peerOf(["clc"]), ...server }),
    "clc",
  );
  return {
    node,
    cluster: createHttpClient<ClusterClient>(CLUSTER_METHODS, {
      baseUrl: `${scheme}://127.0.0.1:${ccL.port}`,
      role: "cc",
      ...callerOf("clc"),
      ...opts,
    }),
    echo: createHttpClient<EchoClient>(ECHO_METHODS, {
      baseUrl: `${scheme}://127.0.0.1:${echoL.port}`,
      role: "echo",
      serverRole: "clc",
      ...callerOf("clc"),
      ...opts,
    }),
    ports: { nc: ncL.port, cc: ccL.port, echo: echoL.port },
    certs,
    teardown: async () => {
      await Promise.all([ncL.close(), ccL.close(), echoL.close()]);
    },
  };
}
