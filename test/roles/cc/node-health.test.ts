/**
 * What the CC does when a node stops answering: it keeps the node's instances (from its
 * last report, marked unreported), places nothing there, fails calls for them fast once
 * the node is down, keeps a terminate it could not carry out (placement and addresses
 * included), remembers all of it across its own restart, and catches up when the node
 * answers again. Guests it has no record of are reported, then destroyed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../../src/common/clock";
import { FENCED_REASON } from "../../../src/roles/cc/service";
import { leases, placements } from "../../../src/roles/cc/database";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { clusterRequests, settled, twoNodeCluster } from "../../support/cluster";
import { nodeImageRef } from "../../support/bundles";

const ctx = { requestId: "req-health" };
const DOWN_MS = 60_000;
const UNKNOWN_MS = 900_000;
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  image = await nodeImageRef(t, "emi-0000BEEF", 200_000);
});
afterAll(() => t.stop());

function setup() {
  let now = Date.now();
  const clock: Clock = { now: () => new Date(now) };
  const c = twoNodeCluster(tempDir("euca-cc-health-"), () => t.cloud.walrusClient, {
    clock,
    downMs: DOWN_MS,
    unknownMs: UNKNOWN_MS,
  });
  return { ...c, advance: (ms: number) => void (now += ms) };
}

const small = [{ name: "m1.test", cpus: 1, memoryMb: 512, diskGb: 1 }];

describe("a node that stops answering", () => {
  it("is suspect, then down; its instance is kept from its last report and nothing new goes there", async () => {
    const c = setup();
    const first = clusterRequests(image, 1);
    first.instances[0]!.publicIp = "198.51.100.7";
    const [placed] = (await c.service.runInstances(first, ctx)).placed;
    expect(placed!.node).toBe("node-a");
    const id = placed!.instanceId;
    await settled(c.service, [id]);
    await c.monitor.poll(ctx);
    const lastContact = c.monitor.health("node-a")!.lastContact!;

    c.silent.add("node-a");
    c.advance(5_000);
    await c.monitor.poll(ctx);
    let nodes = (await c.service.describeNodes({}, ctx)).nodes;
    expect(nodes.map((n) => [n.name, n.state])).toEqual([
      ["node-a", "suspect"],
      ["node-b", "up"],
    ]);
    expect(nodes[0]!.lastContact).toBe(new Date(lastContact).toISOString());
    let [seen] = (await c.service.describeInstances({ instanceIds: [id] }, ctx)).instances;
    expect(seen).toMatchObject({ instanceId: id, state: "Extant", node: "node-a", unreportedSince: lastContact });
    // Only node-b offers room now: one more fits, not three.
    expect((await c.service.describeResources({ vmTypes: small }, ctx)).resources[0]!.available).toBe(2);

    c.advance(DOWN_MS);
    await c.monitor.poll(ctx);
    nodes = (await c.service.describeNodes({}, ctx)).nodes;
    expect(nodes[0]!.state).toBe("down");
    expect(nodes[0]!.instances).toBe(1);
    [seen] = (await c.service.describeInstances({}, ctx)).instances;
    expect(seen).toMatchObject({ instanceId: id, state: "Extant", unreportedSince: lastContact });
    // Calls for its instances fail at once, as Unavailable.
    await expect(c.service.getConsoleOutput({ instanceId: id }, ctx)).rejects.toMatchObject({ kind: "Unavailable" });
    // A launch goes to node-b.
    const next = (await c.service.runInstances(clusterRequests(image, 1), ctx)).placed;
    expect(next.map((p) => p.node)).toEqual(["node-b"]);
  });

  it("keeps a terminate it could not carry out — placement, lease and address held — across its own restart, and carries it out when asked again after the node answers", async () => {
    const c = setup();
    const req = clusterRequests(image, 1);
    req.instances[0]!.publicIp = "198.51.100.8";
    const id = (await c.service.runInstances(req, ctx)).placed[0]!.instanceId;
    await settled(c.service, [id]);
    await c.monitor.poll(ctx);
    c.silent.add("node-a");
    c.advance(1_000);
    await c.monitor.poll(ctx);

    const r = await c.service.terminateInstances({ instanceIds: [id] }, ctx);
    expect(r.unfinished.map((u) => u.instanceId)).toEqual([id]);
    const held = () => [
      c.db.db
        .select()
        .from(placements)
        .all()
        .map((p) => p.instanceId),
      c.db.db
        .select()
        .from(leases)
        .all()
        .map((l) => l.instanceId),
    ];
    expect(held()).toEqual([[id], [id]]);
    // The address is still held: a launch given it is refused before anything starts.
    const clash = clusterRequests(image, 1);
    clash.instances[0]!.publicIp = "198.51.100.8";
    await expect(c.service.runInstances(clash, ctx)).rejects.toMatchObject({
      kind: "IncorrectState",
      reason: "address-in-use",
    });
    expect(held()).toEqual([[id], [id]]);

    // A CC restarted while the node is still silent still knows what it was running.
    const again = c.restart();
    await again.monitor.poll(ctx);
    const [seen] = (await again.service.describeInstances({}, ctx)).instances;
    expect(seen).toMatchObject({ instanceId: id, state: "Extant" });
    expect(seen!.unreportedSince).toBeTypeOf("number");
    // …and the guest runs on all the while.
    expect(
      (await c.nodes[0]!.service.describeInstances({}, ctx)).instances.find((i) => i.instanceId === id)?.state,
    ).toBe("Extant");

    c.silent.delete("node-a");
    await again.monitor.poll(ctx);
    expect(again.monitor.health("node-a")!.state).toBe("up");
    const done = await again.service.terminateInstances({ instanceIds: [id] }, ctx);
    expect(done.unfinished).toEqual([]);
    expect(held()).toEqual([[], []]);
  });
});

describe("guests the cluster has no record of", () => {
  it("are reported by node, then destroyed after UNKNOWN_INSTANCE_SECONDS", async () => {
    const c = setup();
    // A guest started on node-b behind the CC's back (as one left by an undone launch would be).
    const req = clusterRequests(image, 1).instances[0]!;
    const { groupIds: _g, publicIp: _p, ...run } = req;
    await c.nodes[1]!.client.runInstance(
      { ...run, nic: { mode: "user", mac: "d0:0d:00:00:00:01", ip: "10.128.0.200", forwards: [] } },
      ctx,
    );
    await c.monitor.poll(ctx);
    let nodes = (await c.service.describeNodes({}, ctx)).nodes;
    expect(nodes[1]!.unknown.map((u) => u.instanceId)).toEqual([req.instanceId]);
    c.advance(UNKNOWN_MS - 1);
    await c.monitor.poll(ctx);
    expect(
      (await c.nodes[1]!.client.describeInstances({}, ctx)).instances.find((i) => i.instanceId === req.instanceId)
        ?.state,
    ).not.toBe("Teardown");
    c.advance(1);
    await c.monitor.poll(ctx);
    expect(
      (await c.nodes[1]!.client.describeInstances({}, ctx)).instances.find((i) => i.instanceId === req.instanceId)
        ?.state,
    ).toBe("Teardown");
    await c.monitor.poll(ctx);
    nodes = (await c.service.describeNodes({}, ctx)).nodes;
    expect(nodes[1]!.unknown).toEqual([]);
  });
});

describe("evacuate --fenced", () => {
  it("gives up a fenced node's instances with a reason, lets go of them without the node, and destroys its guests if it answers again", async () => {
    const c = setup();
    const id = (await c.service.runInstances(clusterRequests(image, 1), ctx)).placed[0]!.instanceId;
    await settled(c.service, [id]);
    c.silent.add("node-a");
    c.advance(DOWN_MS + 1);
    await c.monitor.poll(ctx);
    await c.monitor.poll(ctx);
    expect(c.monitor.health("node-a")!.state).toBe("down");

    expect((await c.service.evacuateNode({ node: "node-a" }, ctx)).instanceIds).toEqual([id]);
    await expect(c.service.evacuateNode({ node: "node-z" }, ctx)).rejects.toMatchObject({ kind: "NotFound" });
    const [seen] = (await c.service.describeInstances({}, ctx)).instances;
    expect(seen).toMatchObject({ instanceId: id, state: "Teardown", reason: FENCED_REASON });
    expect((await c.service.terminateInstances({ instanceIds: [id] }, ctx)).unfinished).toEqual([]);

    // The node was not really off: it answers, and its guest goes at the first poll.
    c.silent.delete("node-a");
    await c.monitor.poll(ctx);
    expect(c.monitor.health("node-a")!.state).toBe("up");
    expect(
      (await c.nodes[0]!.client.describeInstances({}, ctx)).instances.find((i) => i.instanceId === id)?.state,
    ).toBe("Teardown");
  });
});
