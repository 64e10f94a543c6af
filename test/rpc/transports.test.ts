import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import pino from "pino";
import { createInProcessClient } from "../../src/rpc/in-process";
import { createHttpClient } from "../../src/rpc/http-client";
import { createRpcApp } from "../../src/rpc/http-server";
import { signInternalRequest } from "../../src/rpc/signing";
import { listen } from "../../src/server/listen";
import { systemClock, fixedClock } from "../../src/common/clock";
import { randomIds } from "../../src/common/ids";
import { createNodeService } from "../../src/roles/nc/service";
import { assembleClusterService } from "../../src/compose/cc";
import { NODE_METHODS, type NodeClient } from "../../src/roles/nc/client";
import { CLUSTER_METHODS, type ClusterClient } from "../../src/roles/cc/client";
import { join } from "node:path";
import { tempDir, testProbe } from "../support/cloud";
import { openNcDatabase } from "../../src/roles/nc/database";
import { openCcDatabase } from "../../src/roles/cc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import { roleClientContract, echoService, ECHO_METHODS, type EchoClient } from "../contracts/role-clients.contract";

const log = pino({ level: "silent" });
const key = { id: "ECKTEST0000000000001", secret: "s3cr3t-component-key" };

function clusterOver(node: NodeClient) {
  return assembleClusterService({
    name: "cluster1",
    host: "127.0.0.1",
    db: openCcDatabase(join(tempDir("euca-cc-"), "cc.db")),
    nodes: () => [{ name: "n1", client: node }],
    clock: systemClock,
    log,
    pollMs: 0,
    policy: "GREEDY",
    plan: { subnet: [10, 128], addrsPerNet: 32 },
    downMs: 60_000,
    unknownMs: 900_000,
  }).service;
}

function services() {
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

roleClientContract("the in-process transport", async () => {
  const s = services();
  const node = createInProcessClient(NODE_METHODS, s.node);
  const cluster = clusterOver(node);
  return {
    node,
    cluster: createInProcessClient(CLUSTER_METHODS, cluster),
    echo: createInProcessClient(ECHO_METHODS, s.echo),
    teardown: async () => {},
  };
});

/** NC, CC and the echo service each on their own port, CC → NC over HTTP too. */
async function httpSetup() {
  const s = services();
  const lookupKey = (id: string) => (id === key.id ? key.secret : undefined);
  const opts = { clock: systemClock, ids: randomIds };
  const ncL = await listen(
    createRpcApp({ role: "nc", service: s.node, methods: NODE_METHODS, lookupKey, clock: systemClock, log }),
    "127.0.0.1",
    0,
  );
  const node = createHttpClient<NodeClient>(NODE_METHODS, {
    baseUrl: `http://127.0.0.1:${ncL.port}`,
    role: "nc",
    key,
    ...opts,
  });
  const cluster = clusterOver(node);
  const ccL = await listen(
    createRpcApp({ role: "cc", service: cluster, methods: CLUSTER_METHODS, lookupKey, clock: systemClock, log }),
    "127.0.0.1",
    0,
  );
  const echoApp = new Hono().route(
    "/",
    createRpcApp({ role: "echo", service: s.echo, methods: ECHO_METHODS, lookupKey, clock: systemClock, log }),
  );
  const echoL = await listen(echoApp, "127.0.0.1", 0);
  return {
    node,
    cluster: createHttpClient<ClusterClient>(CLUSTER_METHODS, {
      baseUrl: `http://127.0.0.1:${ccL.port}`,
      role: "cc",
      key,
      ...opts,
    }),
    echo: createHttpClient<EchoClient>(ECHO_METHODS, {
      baseUrl: `http://127.0.0.1:${echoL.port}`,
      role: "echo",
      key,
      ...opts,
    }),
    ports: { nc: ncL.port },
    teardown: async () => {
      await Promise.all([ncL.close(), ccL.close(), echoL.close()]);
    },
  };
}

roleClientContract("signed HTTP", httpSetup);

describe("signed HTTP refuses what it must", () => {
  async function send(port: number, headers: Record<string, string>, body: string) {
    const res = await fetch(`http://127.0.0.1:${port}/internal/nc/describeResource`, { method: "POST", headers, body });
    return { status: res.status, body: (await res.json()) as { result?: unknown; error?: { reason?: string } } };
  }
  function signed(port: number, body: string, opts: { now?: Date; nonce?: string; k?: typeof key } = {}) {
    const url = new URL(`http://127.0.0.1:${port}/internal/nc/describeResource`);
    const h = signInternalRequest(
      { method: "POST", url, body, requestId: "req-1" },
      opts.k ?? key,
      opts.now ?? new Date(),
      opts.nonce ?? randomIds.nonce(),
    );
    delete h.host;
    return h;
  }

  it("accepts a properly signed request once, and refuses its replay", async () => {
    const c = await httpSetup();
    try {
      const h = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, h, "{}")).status).toBe(200);
      const again = await send(c.ports.nc, h, "{}");
      expect(again).toMatchObject({ status: 401, body: { error: { reason: "replayed" } } });
    } finally {
      await c.teardown();
    }
  });

  it("refuses an unsigned request", async () => {
    const c = await httpSetup();
    try {
      expect(await send(c.ports.nc, { "content-type": "application/json" }, "{}")).toMatchObject({
        status: 401,
        body: { error: { reason: "missing" } },
      });
    } finally {
      await c.teardown();
    }
  });

  it("refuses a tampered body, a tampered request id, and a wrong key", async () => {
    const c = await httpSetup();
    try {
      const h = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, h, '{"x":1}')).status).toBe(401);
      const h2 = signed(c.ports.nc, "{}");
      expect((await send(c.ports.nc, { ...h2, "x-euca-request-id": "forged" }, "{}")).body.error?.reason).toBe(
        "bad-signature",
      );
      const h3 = signed(c.ports.nc, "{}", { k: { id: key.id, secret: "not-the-secret" } });
      expect((await send(c.ports.nc, h3, "{}")).body.error?.reason).toBe("bad-signature");
      const h4 = signed(c.ports.nc, "{}", { k: { id: "ECKUNKNOWN", secret: key.secret } });
      expect((await send(c.ports.nc, h4, "{}")).body.error?.reason).toBe("unknown-key");
    } finally {
      await c.teardown();
    }
  });

  it("refuses an expired request (6 minutes old) and one from the future", async () => {
    const c = await httpSetup();
    try {
      const old = signed(c.ports.nc, "{}", { now: new Date(Date.now() - 6 * 60_000) });
      expect((await send(c.ports.nc, old, "{}")).body.error?.reason).toBe("expired");
      const future = signed(c.ports.nc, "{}", { now: new Date(Date.now() + 6 * 60_000) });
      expect((await send(c.ports.nc, future, "{}")).body.error?.reason).toBe("expired");
    } finally {
      await c.teardown();
    }
  });

  it("a client whose clock is off reports the refusal as an unavailable component", async () => {
    const c = await httpSetup();
    try {
      const skewed = createHttpClient<NodeClient>(NODE_METHODS, {
        baseUrl: `http://127.0.0.1:${c.ports.nc}`,
        role: "nc",
        key,
        clock: fixedClock("2020-01-01T00:00:00Z"),
        ids: randomIds,
      });
      await expect(skewed.describeResource({}, { requestId: "r" })).rejects.toMatchObject({
        kind: "Unavailable",
        message: expect.stringContaining("401"),
      });
    } finally {
      await c.teardown();
    }
  });
});
