/** The CC places instances on its nodes (fake hypervisors), routes later calls, and launches all or nothing. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { systemClock } from "../../../src/common/clock";
import { randomIds } from "../../../src/common/ids";
import { createInProcessClient } from "../../../src/rpc/in-process";
import { createHttpClient } from "../../../src/rpc/http-client";
import { createRpcApp } from "../../../src/rpc/http-server";
import { listen } from "../../../src/server/listen";
import { FakeHypervisor } from "../../../src/hypervisor/fake/fake-hypervisor";
import { sleepingNodes } from "../../../src/roles/cc/database";
import { createNodeMonitor } from "../../../src/roles/cc/node-monitor";
import { CLUSTER_METHODS, type ClusterClient, type ClusterRunRequest } from "../../../src/roles/cc/client";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { clusterRequests, settled, twoNodeCluster, type ClusterOptions } from "../../support/cluster";
import { nodeImageRef } from "../../support/bundles";

const log = pino({ level: "silent" });
const ctx = { requestId: "req-cc" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  image = await nodeImageRef(t, "emi-0000CAFE", 200_000);
});
afterAll(() => t.stop());

const cluster = (dir: string, opts: ClusterOptions = {}) => twoNodeCluster(dir, () => t.cloud.walrusClient, opts);

const requests = (count: number, memoryMb = 512) => clusterRequests(image, count, memoryMb);

type Cluster = ReturnType<typeof cluster>;
const transports: Array<
  [
    string,
    (
      dir: string,
      opts?: Parameters<typeof cluster>[1],
    ) => Promise<{ cc: ClusterClient; c: Cluster; close(): Promise<void> }>,
  ]
> = [
  [
    "in-process",
    async (dir, opts) => {
      const c = cluster(dir, opts);
      return { cc: createInProcessClient(CLUSTER_METHODS, c.service), c, close: async () => {} };
    },
  ],
  [
    "signed HTTP",
    async (dir, opts) => {
      const key = { id: "ECKCLUSTERTEST000001", secret: "cluster-test-secret" };
      const c = cluster(dir, opts);
      const l = await listen(
        createRpcApp({
          role: "cc",
          service: c.service,
          methods: CLUSTER_METHODS,
          lookupKey: (id) => (id === key.id ? key.secret : undefined),
          clock: systemClock,
          log,
        }),
        "127.0.0.1",
        0,
      );
      return {
        cc: createHttpClient<ClusterClient>(CLUSTER_METHODS, {
          baseUrl: `http://127.0.0.1:${l.port}`,
          role: "cc",
          key,
          clock: systemClock,
          ids: randomIds,
        }),
        c,
        close: () => l.close(),
      };
    },
  ],
];

for (const [name, setup] of transports) {
  describe(`cluster instances over ${name}`, () => {
    it("places greedily across nodes, routes console/reboot/terminate, and frees capacity", async () => {
      const { cc, close } = await setup(tempDir("euca-cc-"));
      try {
        const req = requests(3);
        const reqs = req.instances;
        const { placed } = await cc.runInstances(req, ctx);
        expect(placed.map((p) => p.node)).toEqual(["node-a", "node-a", "node-b"]);
        const inst = await settled(
          cc,
          reqs.map((r) => r.instanceId),
        );
        expect(inst.map((i) => [i.instanceId, i.state, i.node])).toEqual(
          expect.arrayContaining(placed.map((p) => [p.instanceId, "Extant", p.node])),
        );
        const out = Buffer.from(
          (await cc.getConsoleOutput({ instanceId: reqs[2]!.instanceId }, ctx)).output,
          "base64",
        ).toString();
        expect(out).toContain(`${reqs[2]!.instanceId} login:`);
        await cc.rebootInstances({ instanceIds: [reqs[0]!.instanceId] }, ctx);
        const small = (
          await cc.describeResources({ vmTypes: [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }] }, ctx)
        ).resources[0]!;
        expect([small.available, small.max]).toEqual([1, 4]);
        const term = await cc.terminateInstances({ instanceIds: reqs.map((r) => r.instanceId) }, ctx);
        expect(term.instances.map((i) => i.state)).toEqual(["Teardown", "Teardown", "Teardown"]);
        expect((await cc.describeInstances({}, ctx)).instances).toEqual([]);
        await expect(cc.getConsoleOutput({ instanceId: reqs[0]!.instanceId }, ctx)).rejects.toMatchObject({
          kind: "NotFound",
        });
      } finally {
        await close();
      }
    });

    it("forwards what the groups open to loopback from the private and public address, and follows every change", async () => {
      const { cc, c, close } = await setup(tempDir("euca-cc-"), { subnet: [127, 64] });
      try {
        const req = requests(2);
        const [a, b] = req.instances as [ClusterRunRequest, ClusterRunRequest];
        a.publicIp = "127.65.0.9";
        req.groups = [
          {
            groupId: "sg-00000001",
            rules: [
              { protocol: "tcp", fromPort: 22, toPort: 22, cidr: "127.0.0.0/8" },
              { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "10.0.0.0/8" }, // no loopback client: not forwarded
              { protocol: "udp", fromPort: 53, toPort: 53, cidr: "0.0.0.0/0" },
              { protocol: "icmp", fromPort: -1, toPort: -1, cidr: "0.0.0.0/0" }, // nothing to forward
              { protocol: "tcp", fromPort: 443, toPort: 443, sourceGroupId: "sg-00000001" }, // no instance reaches another here
            ],
          },
        ];
        const { placed } = await cc.runInstances(req, ctx);
        await settled(
          cc,
          placed.map((p) => p.instanceId),
        );
        const ipOf = new Map(placed.map((p) => [p.instanceId, p.privateIp]));
        const forwards = async (id: string) => {
          const node = placed.find((p) => p.instanceId === id)!.node;
          return ((await c.hypervisors.get(node)!.get(id))?.forwards ?? [])
            .map((f) => `${f.protocol}:${f.hostIp}:${f.port}`)
            .sort();
        };
        expect(await forwards(a.instanceId)).toEqual(
          [
            `tcp:${ipOf.get(a.instanceId)}:22`,
            "tcp:127.65.0.9:22",
            `udp:${ipOf.get(a.instanceId)}:53`,
            "udp:127.65.0.9:53",
          ].sort(),
        );
        expect(await forwards(b.instanceId)).toEqual(
          [`tcp:${ipOf.get(b.instanceId)}:22`, `udp:${ipOf.get(b.instanceId)}:53`].sort(),
        );

        // A revoke of everything, then an elastic address moving from a to b: in force when the call returns.
        await cc.updateNetwork(
          {
            groups: [
              {
                groupId: "sg-00000001",
                rules: [{ protocol: "tcp", fromPort: 8000, toPort: 8001, cidr: "127.0.0.1/32" }],
              },
            ],
          },
          ctx,
        );
        expect(await forwards(b.instanceId)).toEqual([
          `tcp:${ipOf.get(b.instanceId)}:8000`,
          `tcp:${ipOf.get(b.instanceId)}:8001`,
        ]);
        await cc.updateNetwork(
          {
            instances: [
              { instanceId: a.instanceId, publicIp: null },
              { instanceId: b.instanceId, publicIp: "127.65.0.9" },
            ],
          },
          ctx,
        );
        expect(await forwards(a.instanceId)).toEqual([
          `tcp:${ipOf.get(a.instanceId)}:8000`,
          `tcp:${ipOf.get(a.instanceId)}:8001`,
        ]);
        expect(await forwards(b.instanceId)).toEqual(
          [
            `tcp:${ipOf.get(b.instanceId)}:8000`,
            `tcp:${ipOf.get(b.instanceId)}:8001`,
            "tcp:127.65.0.9:8000",
            "tcp:127.65.0.9:8001",
          ].sort(),
        );

        // A node that misses a change is brought in line when it answers again.
        const nodeOfB = c.hypervisors.get(placed.find((p) => p.instanceId === b.instanceId)!.node)!;
        nodeOfB.setFailures({ unreachable: true });
        await cc.updateNetwork({ groups: [{ groupId: "sg-00000001", rules: [] }] }, ctx);
        nodeOfB.setFailures({});
        expect(await forwards(b.instanceId)).toHaveLength(4);
        await c.network.push(ctx);
        expect(await forwards(b.instanceId)).toEqual([]);
        expect(await forwards(a.instanceId)).toEqual([]);
      } finally {
        await close();
      }
    });

    it("launches all or nothing: a request that does not fit starts nothing", async () => {
      const { cc, close } = await setup(tempDir("euca-cc-"));
      try {
        await expect(cc.runInstances(requests(5), ctx)).rejects.toMatchObject({ kind: "InsufficientCapacity" });
        expect((await cc.describeInstances({}, ctx)).instances).toEqual([]);
        const all = (
          await cc.describeResources({ vmTypes: [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }] }, ctx)
        ).resources[0]!;
        expect(all.available).toBe(4);
      } finally {
        await close();
      }
    });
  });
}

describe("POWERSAVE", () => {
  const small = [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }];
  const awake = async (hv: FakeHypervisor) =>
    hv.describeHost().then(
      () => true,
      () => false,
    );

  it("powers idle nodes down, counts them as capacity, wakes one on demand and powers it down again when idle", async () => {
    const dir = tempDir("euca-cc-power-");
    const c = cluster(dir, { policy: "POWERSAVE", power: { idleMs: 0, wakeMs: 2000 } });
    const [a, b] = [c.hypervisors.get("node-a")!, c.hypervisors.get("node-b")!];
    await c.monitor.poll(ctx);
    expect([await awake(a), await awake(b)]).toEqual([false, false]);
    expect(
      c.db.db
        .select()
        .from(sleepingNodes)
        .all()
        .map((r) => r.node)
        .sort(),
    ).toEqual(["node-a", "node-b"]);
    // Sleeping nodes still count: they can be woken.
    expect((await c.service.describeResources({ vmTypes: small }, ctx)).resources[0]).toMatchObject({
      available: 4,
      max: 4,
    });

    const req = requests(1);
    const reqs = req.instances;
    const { placed } = await c.service.runInstances(req, ctx);
    expect(placed[0]!.node).toBe("node-a");
    expect([await awake(a), await awake(b)]).toEqual([true, false]); // only the node needed was woken
    expect((await settled(c.service, [reqs[0]!.instanceId]))[0]!.state).toBe("Extant");

    await c.monitor.poll(ctx); // a node with an instance stays up
    expect(await awake(a)).toBe(true);
    await c.service.terminateInstances({ instanceIds: [reqs[0]!.instanceId] }, ctx);
    await c.monitor.poll(ctx);
    expect(await awake(a)).toBe(false);

    // The CC's knowledge survives its restart: a new monitor over the same database knows both sleep.
    const again = createNodeMonitor({
      nodes: () => c.nodes,
      db: c.db,
      clock: systemClock,
      log,
      pollMs: 0,
      downMs: 60_000,
    });
    expect((await again.snapshots(ctx)).map((v) => [v.name, v.asleep, v.resource?.memorySizeAvailable])).toEqual([
      ["node-a", true, 1024],
      ["node-b", true, 1024],
    ]);
  });

  it("a node that does not wake makes the launch fail with nothing placed", async () => {
    const dir = tempDir("euca-cc-power-");
    const c = cluster(dir, { policy: "POWERSAVE", power: { idleMs: 0, wakeMs: 300 } });
    await c.monitor.poll(ctx);
    for (const hv of c.hypervisors.values()) hv.setFailures({ unreachable: true });
    await expect(c.service.runInstances(requests(1), ctx)).rejects.toMatchObject({ kind: "Unavailable" });
    expect((await c.service.describeInstances({}, ctx)).instances).toEqual([]);
    for (const hv of c.hypervisors.values()) hv.setFailures({});
    expect((await c.service.runInstances(requests(1), ctx)).placed).toHaveLength(1);
  });

  it("GREEDY with power management off never powers nodes down", async () => {
    const c = cluster(tempDir("euca-cc-power-"));
    await c.monitor.poll(ctx);
    expect(await awake(c.hypervisors.get("node-a")!)).toBe(true);
  });
});
