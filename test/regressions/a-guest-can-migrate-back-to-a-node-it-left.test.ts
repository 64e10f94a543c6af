/**
 * A node keeps the record of a guest that migrated away for an hour (so the cluster learns
 * why it left), and receiving a migration refused any instance it had a record of: a guest
 * drained from node-a to node-b could not be drained back within the hour ("already on this
 * node"). The record of its leaving now gives way; the paused copy the guest left on the
 * node it moves from is destroyed once it runs on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startTestCloud, tempDir, type TestCloud } from "../support/cloud";
import { clusterRequests, settled, twoNodeCluster } from "../support/cluster";
import { nodeImageRef } from "../support/bundles";

const ctx = { requestId: "req-migrate-back" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  image = await nodeImageRef(t, "emi-0000D2A2", 200_000);
});
afterAll(() => t.stop());

describe("regression: draining a guest back to the node it left", () => {
  it("moves it there again; each node it left keeps no running copy", async () => {
    const dir = tempDir("euca-migrate-back-");
    const c = twoNodeCluster(dir, () => t.cloud.walrusClient);
    const id = (await c.service.runInstances(clusterRequests(image, 1), ctx)).placed[0]!.instanceId;
    await settled(c.service, [id]);
    expect((await c.service.drainNode({ node: "node-a" }, ctx)).migrated).toMatchObject([
      { instanceId: id, from: "node-a", to: "node-b" },
    ]);
    await c.service.undrainNode({ node: "node-a" }, ctx);

    expect((await c.service.drainNode({ node: "node-b" }, ctx)).migrated).toMatchObject([
      { instanceId: id, from: "node-b", to: "node-a" },
    ]);
    expect((await c.service.describeInstances({ instanceIds: [id] }, ctx)).instances[0]).toMatchObject({
      node: "node-a",
      state: "Extant",
    });
    expect((await c.nodes[1]!.service.describeInstances({ instanceIds: [id] }, ctx)).instances[0]).toMatchObject({
      state: "Teardown",
      reason: "migrated to node node-a",
    });
    expect(existsSync(join(dir, "node-a", "fake", "domains", `${id}.json`))).toBe(true);
    expect(existsSync(join(dir, "node-b", "fake", "domains", `${id}.json`))).toBe(false);
  });
});
