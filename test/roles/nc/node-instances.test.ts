/**
 * The node controller's instance lifecycle on the fake hypervisor, over the in-process
 * and the signed-HTTP transport: staging from Walrus, disks, console, reboot,
 * terminate, failures with reasons, capacity, adoption after a restart, and EBS-backed
 * instances (a root volume, launch volumes, stop, run again).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
import { NODE_METHODS, type NodeClient, type RunInstanceRequest } from "../../../src/roles/nc/client";
import { startTestCloud, tempDir, testProbe, unique, type TestCloud } from "../../support/cloud";
import { imageFile, makeUser, uploadBundle } from "../../support/bundles";
import { until as poll } from "../../support/until";

const log = pino({ level: "silent" });
const ctx = { requestId: "req-nc" };
let t: TestCloud;
let image: { id: string; bucket: string; manifestKey: string };
let imageBytes: Buffer;

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  const alice = await makeUser(t, unique("alice"));
  const file = imageFile("root.img", 800_000);
  imageBytes = readFileSync(file);
  const [bucket, manifestKey] = (await uploadBundle(t, alice, file)).split("/") as [string, string];
  image = { id: "emi-00C0FFEE", bucket, manifestKey };
});
afterAll(() => t.stop());

function makeNode(dir: string) {
  const hv = new FakeHypervisor(join(dir, "fake"), { memoryMb: 4096, cores: 4, diskGb: 100 }, systemClock);
  const service = createNodeService({
    db: openNcDatabase(join(dir, "nc.db")),
    hypervisor: hv,
    images: new NodeImageCache(join(dir, "cache"), 1024 ** 3, () => t.cloud.walrusClient),
    probe: testProbe,
    instancesDir: join(dir, "instances"),
    limits: { reservedMemoryMb: 256 },
    clock: systemClock,
    log,
  });
  return { hv, service };
}

let n = 0;
function request(over: Partial<RunInstanceRequest> = {}): RunInstanceRequest {
  const id = `i-${(0x1000000 + ++n).toString(16).toUpperCase().padStart(8, "0")}`;
  return {
    instanceId: id,
    reservationId: "r-00000001",
    accountId: "123456789012",
    image,
    vmType: { name: "m1.small", cpus: 1, memoryMb: 128, diskGb: 2 },
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test",
    nic: { mode: "user", mac: "d0:0d:00:00:00:01", ip: "10.0.0.2" },
    launchIndex: 0,
    groupNames: ["default"],
    ...over,
  };
}

const until = (node: NodeClient, id: string, state: string) =>
  poll(
    async () => {
      const inst = (await node.describeInstances({ instanceIds: [id] }, ctx)).instances[0];
      return inst?.state === state ? inst : undefined;
    },
    { what: `${id} to reach ${state}`, everyMs: 25 },
  );

const transports: Array<
  [string, (dir: string) => Promise<{ node: NodeClient; hv: FakeHypervisor; close(): Promise<void> }>]
> = [
  [
    "in-process",
    async (dir) => {
      const { hv, service } = makeNode(dir);
      return { node: createInProcessClient(NODE_METHODS, service), hv, close: async () => {} };
    },
  ],
  [
    "signed HTTP",
    async (dir) => {
      const { hv, service } = makeNode(dir);
      const key = { id: "ENKNODETEST000000001", secret: "node-test-secret" };
      const l = await listen(
        createRpcApp({
          role: "nc",
          service,
          methods: NODE_METHODS,
          lookupKey: (id) => (id === key.id ? key.secret : undefined),
          clock: systemClock,
          log,
        }),
        "127.0.0.1",
        0,
      );
      return {
        node: createHttpClient<NodeClient>(NODE_METHODS, {
          baseUrl: `http://127.0.0.1:${l.port}`,
          role: "nc",
          key,
          clock: systemClock,
          ids: randomIds,
        }),
        hv,
        close: () => l.close(),
      };
    },
  ],
];

for (const [name, setup] of transports) {
  describe(`node instances over ${name}`, () => {
    it("runs an instance: image staged from Walrus, disks built, Extant, console, reboot, forwards, terminate", async () => {
      const dir = tempDir("euca-nc-");
      const { node, hv, close } = await setup(dir);
      try {
        const r = request();
        expect((await node.runInstance(r, ctx)).state).toBe("Pending");
        await until(node, r.instanceId, "Extant");
        const idir = join(dir, "instances", r.accountId, r.instanceId);
        expect(readFileSync(join(idir, "root")).equals(imageBytes)).toBe(true);
        expect(statSync(join(idir, "swap")).size).toBe(512 * 1024 ** 2);
        expect(statSync(join(idir, "ephemeral")).size).toBe(2 * 1024 ** 3 - imageBytes.length - 512 * 1024 ** 2);
        expect(readFileSync(join(idir, "authorized_keys"), "utf8")).toContain("ssh-ed25519");
        const res = await node.describeResource({}, ctx);
        expect([res.memorySizeAvailable, res.numberOfCoresAvailable]).toEqual([4096 - 128, 3]);
        const out = Buffer.from(
          (await node.getConsoleOutput({ instanceId: r.instanceId }, ctx)).output,
          "base64",
        ).toString();
        expect(out).toContain(`${r.instanceId} login:`);
        await node.rebootInstance({ instanceId: r.instanceId }, ctx);
        expect(
          Buffer.from((await node.getConsoleOutput({ instanceId: r.instanceId }, ctx)).output, "base64").toString(),
        ).toContain("Restarting system");
        // Forwards as the cluster renders them; one from an address that is not loopback is refused whole.
        const fwd = { protocol: "tcp" as const, hostIp: "127.64.7.7", port: 22 };
        expect(await node.setForwards({ instanceId: r.instanceId, forwards: [fwd] }, ctx)).toEqual({ failed: [] });
        expect((await hv.get(r.instanceId))?.forwards).toEqual([fwd]);
        await expect(
          node.setForwards({ instanceId: r.instanceId, forwards: [{ ...fwd, hostIp: "0.0.0.0" }] }, ctx),
        ).rejects.toThrow(/loopback/);
        expect((await hv.get(r.instanceId))?.forwards).toEqual([fwd]);
        expect((await node.runInstance(r, ctx)).state).toBe("Extant"); // a retried request is idempotent
        expect((await node.terminateInstance({ instanceId: r.instanceId }, ctx))?.state).toBe("Teardown");
        expect(existsSync(idir)).toBe(false);
        expect((await node.describeResource({}, ctx)).memorySizeAvailable).toBe(4096);
        expect(await node.terminateInstance({ instanceId: "i-FFFFFFFF" }, ctx)).toBeNull();
      } finally {
        await close();
      }
    });

    it("failures end in Teardown with a reason and leave no files: start refused, crash, missing image, too large", async () => {
      const dir = tempDir("euca-nc-");
      const { node, hv, close } = await setup(dir);
      try {
        const refused = request();
        hv.setFailures({ startFails: [refused.instanceId] });
        await node.runInstance(refused, ctx);
        expect((await until(node, refused.instanceId, "Teardown")).reason).toMatch(/failed to start: .*refused/);
        expect(existsSync(join(dir, "instances", refused.accountId, refused.instanceId))).toBe(false);

        const crashing = request();
        await node.runInstance(crashing, ctx);
        await until(node, crashing.instanceId, "Extant");
        hv.setFailures({ crashed: [crashing.instanceId] });
        expect((await until(node, crashing.instanceId, "Teardown")).reason).toContain("crashed");
        hv.setFailures({});

        const missing = request({ image: { ...image, id: "emi-0BADF00D", manifestKey: "nope.manifest.xml" } });
        await node.runInstance(missing, ctx);
        expect((await until(node, missing.instanceId, "Teardown")).reason).toContain("failed to start");

        const tooBig = request({ vmType: { name: "tiny", cpus: 1, memoryMb: 64, diskGb: 0 } });
        await node.runInstance(tooBig, ctx);
        expect((await until(node, tooBig.instanceId, "Teardown")).reason).toContain("image too large");

        await expect(
          node.runInstance(request({ vmType: { name: "huge", cpus: 64, memoryMb: 128, diskGb: 1 } }), ctx),
        ).rejects.toMatchObject({ kind: "InsufficientCapacity" });
      } finally {
        await close();
      }
    });
  });
}

describe("forwards on the node", () => {
  const fwd = (port: number) => ({ protocol: "tcp" as const, hostIp: "127.64.0.9", port });
  const inForce = async (hv: FakeHypervisor, id: string) => ((await hv.get(id))?.forwards ?? []).map((f) => f.port);

  it("a change while the guest stages is in force once it runs; a restarted NC restores what its guest lacks", async () => {
    const dir = tempDir("euca-nc-");
    const first = makeNode(dir);
    const r = request({ nic: { mode: "user", mac: "d0:0d:00:00:00:09", ip: "127.64.0.9", forwards: [fwd(22)] } });
    await first.service.runInstance(r, ctx);
    await first.service.setForwards({ instanceId: r.instanceId, forwards: [fwd(22), fwd(80)] }, ctx); // still staging
    await until(first.service, r.instanceId, "Extant");
    expect(await inForce(first.hv, r.instanceId)).toEqual([22, 80]);
    await first.service.setForwards({ instanceId: r.instanceId, forwards: [fwd(443)] }, ctx);
    expect(await inForce(first.hv, r.instanceId)).toEqual([443]);

    // Recorded, but the guest lost it (a crash between the two): the next NC puts it back.
    await first.hv.setForwards(r.instanceId, []);
    const second = makeNode(dir);
    await second.service.adopt();
    expect(await inForce(second.hv, r.instanceId)).toEqual([443]);
    await expect(second.service.setForwards({ instanceId: "i-0BADF00D", forwards: [] }, ctx)).rejects.toMatchObject({
      kind: "NotFound",
    });
    await second.service.terminateInstance({ instanceId: r.instanceId }, ctx);
    expect(await second.service.setForwards({ instanceId: r.instanceId, forwards: [fwd(22)] }, ctx)).toEqual({
      failed: [],
    }); // gone: nothing to do
    expect(await second.hv.get(r.instanceId)).toBeUndefined();
  });
});

describe("node restart", () => {
  it("adopts running instances and tears down stagings that were cut short", async () => {
    const dir = tempDir("euca-nc-");
    const first = makeNode(dir);
    const running = request();
    await first.service.runInstance(running, ctx);
    await until(first.service, running.instanceId, "Extant");
    // A request recorded as pending whose staging never finished (the NC died mid-way).
    const db = openNcDatabase(join(dir, "nc.db"));
    db.sqlite
      .prepare("INSERT INTO instances (id, request, state, created_at) VALUES (?, ?, 'pending', ?)")
      .run("i-0DEADBEE", JSON.stringify(request({ instanceId: "i-0DEADBEE" })), Date.now());
    db.close();
    const second = makeNode(dir);
    await second.service.adopt();
    const states = (await second.service.describeInstances({}, ctx)).instances.map((i) => [i.instanceId, i.state]);
    expect(states).toEqual(
      expect.arrayContaining([
        [running.instanceId, "Extant"],
        ["i-0DEADBEE", "Teardown"],
      ]),
    );
  });

  it("keeps a guest arriving by migration waiting for the CC's word, and destroys the paused copy a migrated guest left", async () => {
    const [srcDir, dstDir] = [tempDir("euca-nc-"), tempDir("euca-nc-")];
    const source = makeNode(srcDir);
    const target = makeNode(dstDir);
    const r = request();
    await source.service.runInstance(r, ctx);
    await until(source.service, r.instanceId, "Extant");
    const at = await target.service.receiveInstance(
      { ...(await source.service.migrationSource({ instanceId: r.instanceId }, ctx)), key: "ef".repeat(32) },
      ctx,
    );
    const domainFile = join(srcDir, "fake", "domains", `${r.instanceId}.json`);
    const copy = readFileSync(domainFile);
    await source.service.sendInstance({ instanceId: r.instanceId, to: at, node: "target" }, ctx);
    writeFileSync(domainFile, copy); // the source's NC stopped before its paused copy was destroyed

    // Both NCs restart before the CC says go.
    const [source2, target2] = [makeNode(srcDir), makeNode(dstDir)];
    await source2.service.adopt();
    await target2.service.adopt();
    expect(existsSync(domainFile)).toBe(false);
    expect((await source2.service.describeInstances({ instanceIds: [r.instanceId] }, ctx)).instances[0]).toMatchObject({
      state: "Teardown",
      reason: "migrated to node target",
    });
    expect((await target2.service.describeInstances({ instanceIds: [r.instanceId] }, ctx)).instances[0]).toMatchObject({
      state: "Pending",
    });
    await target2.service.completeIncoming({ instanceId: r.instanceId, ok: true }, ctx);
    await until(target2.service, r.instanceId, "Extant");
  });
});

describe("EBS-backed instances on the node", () => {
  it("boots from its root volume with launch volumes attached; stops ('stopped'); runs again; will not migrate", async () => {
    const dir = tempDir("euca-nc-ebs-");
    const { hv, service } = makeNode(dir);
    const vol = (name: string) => {
      const path = join(dir, `${name}.img`);
      writeFileSync(path, Buffer.alloc(1024));
      return { kind: "file" as const, path, format: "raw" as const };
    };
    const r = request({
      image: undefined,
      rootVolume: { volumeId: "vol-0000000a", device: "sda1", target: vol("root") },
      volumes: [{ volumeId: "vol-0000000b", device: "sdf", target: vol("extra") }],
      ephemeral: ["sdb"],
    });
    await service.runInstance(r, ctx);
    const up = await until(service, r.instanceId, "Extant");
    expect(up.volumes?.map((v) => v.volumeId).sort()).toEqual(["vol-0000000a", "vol-0000000b"]);
    const dom = (await hv.get(r.instanceId))!;
    expect(dom.disks[0]).toMatchObject({ path: join(dir, "root.img"), volumeId: "vol-0000000a" });
    expect(dom.disks.some((d) => d.device === "sdb" && !d.volumeId)).toBe(true); // the ephemeral disk, no swap
    expect(dom.disks).toHaveLength(3);
    await expect(service.migrationSource({ instanceId: r.instanceId }, ctx)).rejects.toMatchObject({
      kind: "Unsupported",
    });

    expect(await service.stopInstance({ instanceId: r.instanceId }, ctx)).toMatchObject({
      state: "Teardown",
      reason: "stopped",
    });
    expect(await hv.get(r.instanceId)).toBeUndefined();
    expect(existsSync(join(dir, "root.img"))).toBe(true); // the volume is its SC's: untouched
    expect(await service.stopInstance({ instanceId: r.instanceId }, ctx)).toMatchObject({ state: "Teardown" }); // idempotent

    // Started again (on this node): the stopped record gives way to a new run.
    await service.runInstance(r, ctx);
    await until(service, r.instanceId, "Extant");
    await service.terminateInstance({ instanceId: r.instanceId }, ctx);
    // A terminated record is not run again by a retried request.
    expect((await service.runInstance(r, ctx)).state).toBe("Teardown");
  });
});
