/** The CC places instances on its nodes (fake hypervisors), routes later calls, and launches all or nothing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import pino from "pino";
import { systemClock } from "../../../src/common/clock";
import { randomIds } from "../../../src/common/ids";
import { createInProcessClient } from "../../../src/rpc/in-process";
import { createHttpClient } from "../../../src/rpc/http-client";
import { createRpcApp } from "../../../src/rpc/http-server";
import { listen } from "../../../src/server/listen";
import { FakeHypervisor } from "../../../src/hypervisor/fake/fake-hypervisor";
import { openNcDatabase } from "../../../src/roles/nc/database";
import { NodeImageCache } from "../../../src/roles/nc/image-cache";
import { createNodeService } from "../../../src/roles/nc/service";
import { NODE_METHODS, type RunInstanceRequest } from "../../../src/roles/nc/client";
import { openCcDatabase } from "../../../src/roles/cc/database";
import { createClusterService } from "../../../src/roles/cc/service";
import { createNetworkService } from "../../../src/roles/cc/networks";
import { CLUSTER_METHODS, type ClusterClient } from "../../../src/roles/cc/client";
import { startTestCloud, tempDir, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle } from "../../support/bundles";

const log = pino({ level: "silent" });
const ctx = { requestId: "req-cc" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  const alice = await makeUser(t, unique("alice"));
  const [bucket, manifestKey] = (await uploadBundle(t, alice, imageFile("root.img", 200_000))).split("/") as [string, string];
  image = { id: "emi-0000CAFE", bucket, manifestKey };
});
afterAll(() => t.stop());

/** A cluster of two nodes, each 1024 MB and 2 cores. */
function cluster(dir: string) {
  const probe = { memoryMb: () => 1024 + 256, cores: () => 2, diskGb: () => 100 };
  const nodes = ["node-a", "node-b"].map((name) => {
    const ndir = join(dir, name);
    mkdirSync(ndir, { recursive: true });
    const service = createNodeService({
      db: openNcDatabase(join(ndir, "nc.db")), hypervisor: new FakeHypervisor(join(ndir, "fake"), { memoryMb: 1024, cores: 2, diskGb: 100 }, systemClock),
      images: new NodeImageCache(join(ndir, "cache"), 1024 ** 3, () => t.cloud.walrusClient), probe, instancesDir: join(ndir, "instances"),
      limits: { reservedMemoryMb: 256 }, clock: systemClock, log,
    });
    return { name, client: createInProcessClient(NODE_METHODS, service) };
  });
  const db = openCcDatabase(join(dir, "cc.db"));
  const networks = createNetworkService({ db, clock: systemClock, plan: { subnet: [10, 128], addrsPerNet: 32 } });
  return createClusterService({ name: "zone-x", host: "127.0.0.1", nodes: () => nodes, log, db, clock: systemClock, policy: "GREEDY", networks });
}

let n = 0;
function requests(count: number, memoryMb = 512): RunInstanceRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    instanceId: `i-${(0x2000000 + ++n).toString(16).toUpperCase().padStart(8, "0")}`, reservationId: "r-00000002", accountId: "123456789012", image,
    vmType: { name: "m1.test", cpus: 1, memoryMb, diskGb: 1 }, mac: "d0:0d:00:00:00:02", privateIp: `10.0.0.${10 + i}`, launchIndex: i, groupNames: ["default"],
  }));
}

async function settled(cc: ClusterClient, ids: string[]) {
  for (let i = 0; i < 200; i++) {
    const inst = (await cc.describeInstances({ instanceIds: ids }, ctx)).instances;
    if (inst.length === ids.length && inst.every((x) => x.state !== "Pending")) return inst;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("instances did not settle");
}

const transports: Array<[string, (dir: string) => Promise<{ cc: ClusterClient; close(): Promise<void> }>]> = [
  ["in-process", async (dir) => ({ cc: createInProcessClient(CLUSTER_METHODS, cluster(dir)), close: async () => {} })],
  ["signed HTTP", async (dir) => {
    const key = { id: "ECKCLUSTERTEST000001", secret: "cluster-test-secret" };
    const l = await listen(createRpcApp({ role: "cc", service: cluster(dir), methods: CLUSTER_METHODS, lookupKey: (id) => (id === key.id ? key.secret : undefined), clock: systemClock, log }), "127.0.0.1", 0);
    return { cc: createHttpClient<ClusterClient>(CLUSTER_METHODS, { baseUrl: `http://127.0.0.1:${l.port}`, role: "cc", key, clock: systemClock, ids: randomIds }), close: () => l.close() };
  }],
];

for (const [name, setup] of transports) {
  describe(`cluster instances over ${name}`, () => {
    it("places greedily across nodes, routes console/reboot/terminate, and frees capacity", async () => {
      const { cc, close } = await setup(tempDir("euca-cc-"));
      try {
        const reqs = requests(3);
        const { placed } = await cc.runInstances({ instances: reqs }, ctx);
        expect(placed.map((p) => p.node)).toEqual(["node-a", "node-a", "node-b"]);
        const inst = await settled(cc, reqs.map((r) => r.instanceId));
        expect(inst.map((i) => [i.instanceId, i.state, i.node])).toEqual(expect.arrayContaining(placed.map((p) => [p.instanceId, "Extant", p.node])));
        const out = Buffer.from((await cc.getConsoleOutput({ instanceId: reqs[2]!.instanceId }, ctx)).output, "base64").toString();
        expect(out).toContain(`${reqs[2]!.instanceId} login:`);
        await cc.rebootInstances({ instanceIds: [reqs[0]!.instanceId] }, ctx);
        const small = (await cc.describeResources({ vmTypes: [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }] }, ctx)).resources[0]!;
        expect([small.available, small.max]).toEqual([1, 4]);
        const term = await cc.terminateInstances({ instanceIds: reqs.map((r) => r.instanceId) }, ctx);
        expect(term.instances.map((i) => i.state)).toEqual(["Teardown", "Teardown", "Teardown"]);
        expect((await cc.describeInstances({}, ctx)).instances).toEqual([]);
        await expect(cc.getConsoleOutput({ instanceId: reqs[0]!.instanceId }, ctx)).rejects.toMatchObject({ kind: "NotFound" });
      } finally {
        await close();
      }
    });

    it("launches all or nothing: a request that does not fit starts nothing", async () => {
      const { cc, close } = await setup(tempDir("euca-cc-"));
      try {
        await expect(cc.runInstances({ instances: requests(5) }, ctx)).rejects.toMatchObject({ kind: "InsufficientCapacity" });
        expect((await cc.describeInstances({}, ctx)).instances).toEqual([]);
        const all = (await cc.describeResources({ vmTypes: [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }] }, ctx)).resources[0]!;
        expect(all.available).toBe(4);
      } finally {
        await close();
      }
    });
  });
}
