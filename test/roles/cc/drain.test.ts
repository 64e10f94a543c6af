/**
 * Draining a node with the fake driver, the CC wired by hand: its guest moves to the other
 * node with its id, address and volume (the target opens the volume where its SC serves
 * it, with the attachment's own key); the drained node takes nothing new until undrained;
 * a guest no other node has room for stays where it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { leases, placements } from "../../../src/roles/cc/database";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { clusterRequests, settled, twoNodeCluster } from "../../support/cluster";
import { nodeImageRef } from "../../support/bundles";

const ctx = { requestId: "req-drain" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  image = await nodeImageRef(t, "emi-0000D2A1", 200_000);
});
afterAll(() => t.stop());

describe("drain", () => {
  it("moves a node's guest, its address and its volume to the other node; nothing new lands on the drained node until undrained", async () => {
    const dir = tempDir("euca-cc-drain-");
    const c = twoNodeCluster(dir, () => t.cloud.walrusClient);
    const req = clusterRequests(image, 1);
    const id = (await c.service.runInstances(req, ctx)).placed[0]!.instanceId;
    await settled(c.service, [id]);
    const ip = c.db.db.select().from(leases).all()[0]!.privateIp;
    const key = "ab".repeat(32);
    await c.service.attachVolume(
      {
        instanceId: id,
        volumeId: "vol-0000beef",
        device: "sdf",
        target: { kind: "nbd", host: "192.0.2.9", port: 10810, export: "vol-0000beef", identity: id, key },
      },
      ctx,
    );

    const { migrated } = await c.service.drainNode({ node: "node-a" }, ctx);
    expect(migrated).toMatchObject([{ instanceId: id, from: "node-a", to: "node-b" }]);
    const [seen] = (await c.service.describeInstances({ instanceIds: [id] }, ctx)).instances;
    expect(seen).toMatchObject({
      instanceId: id,
      node: "node-b",
      state: "Extant",
      privateIp: ip,
      volumes: [{ volumeId: "vol-0000beef", device: "sdf" }],
    });
    expect(c.db.db.select().from(placements).all()).toMatchObject([
      { instanceId: id, node: "node-b", migratingTo: null },
    ]);
    // The source let it go, saying where; the target holds the volume's key in its own instance directory.
    expect((await c.nodes[0]!.service.describeInstances({ instanceIds: [id] }, ctx)).instances[0]).toMatchObject({
      state: "Teardown",
      reason: "migrated to node node-b",
    });
    const domain = JSON.parse(readFileSync(join(dir, "node-b", "fake", "domains", `${id}.json`), "utf8")) as {
      spec: { disks: Array<{ volumeId?: string; nbd?: { pskDir: string } }> };
    };
    const vol = domain.spec.disks.find((d) => d.volumeId === "vol-0000beef")!;
    expect(readFileSync(join(vol.nbd!.pskDir, "keys.psk"), "utf8")).toBe(`${id}:${key}\n`);
    expect((await c.service.getConsoleOutput({ instanceId: id }, ctx)).output).not.toBe(""); // its console came along

    const nodes = (await c.service.describeNodes({}, ctx)).nodes;
    expect(nodes.map((n) => [n.name, n.drained])).toEqual([
      ["node-a", true],
      ["node-b", false],
    ]);
    expect((await c.service.runInstances(clusterRequests(image, 1), ctx)).placed[0]!.node).toBe("node-b");
    await c.service.undrainNode({ node: "node-a" }, ctx);
    expect((await c.service.runInstances(clusterRequests(image, 1), ctx)).placed[0]!.node).toBe("node-a");
  });

  it("a guest no other node has room for stays where it runs, and says why", async () => {
    const c = twoNodeCluster(tempDir("euca-cc-drain-"), () => t.cloud.walrusClient);
    const [a, b] = [clusterRequests(image, 1, 1024), clusterRequests(image, 1, 1024)];
    const ida = (await c.service.runInstances(a, ctx)).placed[0]!.instanceId;
    const idb = (await c.service.runInstances(b, ctx)).placed[0]!.instanceId;
    await settled(c.service, [ida, idb]);
    const { migrated } = await c.service.drainNode({ node: "node-a" }, ctx);
    expect(migrated).toMatchObject([
      { instanceId: ida, from: "node-a", error: expect.stringMatching(/no other node of the cluster has room/) },
    ]);
    expect((await c.service.describeInstances({ instanceIds: [ida] }, ctx)).instances[0]).toMatchObject({
      node: "node-a",
      state: "Extant",
    });
    await expect(c.service.drainNode({ node: "node-z" }, ctx)).rejects.toMatchObject({ kind: "NotFound" });
  });

  it("a migration a CC restart cut short is settled by the source's word: sent — it continues on the target; not sent — it stays and the target's copy goes", async () => {
    const c = twoNodeCluster(tempDir("euca-cc-drain-"), () => t.cloud.walrusClient);
    const [sent, kept] = (await c.service.runInstances(clusterRequests(image, 2), ctx)).placed.map((p) => p.instanceId);
    await settled(c.service, [sent!, kept!]);
    const [a, b] = c.nodes;
    // What the CC had done when it stopped: each target waits; one source had sent its guest.
    for (const id of [sent!, kept!]) {
      const src = await a!.client.migrationSource({ instanceId: id }, ctx);
      c.db.db.update(placements).set({ migratingTo: "node-b" }).where(eq(placements.instanceId, id)).run();
      const at = await b!.client.receiveInstance({ ...src, key: "cd".repeat(32) }, ctx);
      if (id === sent) await a!.client.sendInstance({ instanceId: id, to: at, node: "node-b" }, ctx);
    }
    const after = c.restart();
    await after.monitor.poll(ctx);
    expect(
      c.db.db
        .select()
        .from(placements)
        .all()
        .map((p) => [p.instanceId, p.node, p.migratingTo])
        .sort(),
    ).toEqual(
      [
        [sent, "node-b", null],
        [kept, "node-a", null],
      ].sort(),
    );
    const onB = new Map((await b!.client.describeInstances({}, ctx)).instances.map((i) => [i.instanceId, i.state]));
    expect([onB.get(sent!), onB.get(kept!)]).toEqual(["Extant", undefined]); // the copy that was not needed is gone, record and all
    expect((await a!.client.describeInstances({ instanceIds: [kept!] }, ctx)).instances[0]).toMatchObject({
      state: "Extant",
    });
    expect(existsSync(join(c.hypervisors.get("node-b")!["dir"] as string, "domains", `${kept}.json`))).toBe(false);
  });
});
