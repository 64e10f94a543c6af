/**
 * Regression (found reading the lifecycle while reshaping it): an instance that ended on
 * its own — its guest crashed, its start failed — was marked terminated by the CLC, but
 * its cluster kept its placement and its private address, and its node reported the
 * torn-down record forever. A group's network (29 addresses by default) then ran out
 * after that many crashes, and every node report grew with every instance ever run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { RegisterImageCommand, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import { openNcDatabase } from "../../src/roles/nc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { createNodeService, TEARDOWN_KEPT_MS } from "../../src/roles/nc/service";
import { startTestCloud, tempDir, testProbe, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, nodeImageRef, uploadBundle, type TestUser } from "../support/bundles";
import { ec2Client } from "../support/ec2";
import { waitForInstances } from "../support/ec2";

let t: TestCloud;
let alice: TestUser;
let imageId: string;
const ec2 = () => ec2Client(t.ec2Url, alice);

beforeAll(async () => {
  // The smallest network per group: 8 addresses, 5 of them for instances.
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0, vnetAddrsPerNet: 8 } });
  alice = await makeUser(t, unique("alice"));
  imageId = (
    await ec2().send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("root.img", 50_000)),
        Name: "r",
      }),
    )
  ).ImageId!;
});
afterAll(() => t.stop());

const until = (ids: string[], state: string) => waitForInstances(ec2(), ids, state, { everyMs: 25 });

describe("instances whose guests crash", () => {
  it("give their private addresses back, so the group's network never runs out", async () => {
    const failures = join(t.dataDir, "nc", "fake", "failures.json");
    for (let round = 0; round < 3; round++) {
      const run = await ec2().send(new RunInstancesCommand({ ImageId: imageId, MinCount: 4, MaxCount: 4 }));
      const ids = run.Instances!.map((i) => i.InstanceId!);
      await until(ids, "running");
      writeFileSync(failures, JSON.stringify({ crashed: ids }));
      await until(ids, "terminated");
      writeFileSync(failures, "{}");
    }
    // Twelve crashed in a network of five: the next launch still gets addresses.
    const last = await ec2().send(new RunInstancesCommand({ ImageId: imageId, MinCount: 4, MaxCount: 4 }));
    expect(last.Instances).toHaveLength(4);
    await ec2().send(new TerminateInstancesCommand({ InstanceIds: last.Instances!.map((i) => i.InstanceId!) }));
  });
});

describe("a node's reports", () => {
  it("forget torn-down records an hour after they ended", async () => {
    const dir = tempDir("euca-nc-");
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const node = createNodeService({
      db: openNcDatabase(join(dir, "nc.db")),
      hypervisor: new FakeHypervisor(join(dir, "fake"), { memoryMb: 4096, cores: 4, diskGb: 100 }, clock),
      images: new NodeImageCache(join(dir, "cache"), 1024 ** 3, () => t.cloud.walrusClient),
      probe: testProbe,
      instancesDir: join(dir, "instances"),
      limits: { reservedMemoryMb: 256 },
      clock,
      log: pino({ level: "silent" }),
    });
    const image = await nodeImageRef(t, "emi-00C0FFEE", 50_000);
    const ctx = { requestId: "r" };
    const r = {
      instanceId: "i-0FEEDBAC",
      reservationId: "r-00000001",
      accountId: "123456789012",
      image,
      vmType: { name: "m1.small", cpus: 1, memoryMb: 128, diskGb: 2 },
      nic: { mode: "user" as const, mac: "d0:0d:0f:ee:db:ac", ip: "10.0.0.2" },
      launchIndex: 0,
      groupNames: ["default"],
    };
    await node.runInstance(r, ctx);
    await node.drain();
    await node.terminateInstance({ instanceId: r.instanceId }, ctx);
    now += TEARDOWN_KEPT_MS - 1000;
    expect((await node.describeInstances({}, ctx)).instances.map((i) => i.state)).toEqual(["Teardown"]);
    now += 2000;
    expect((await node.describeInstances({}, ctx)).instances).toEqual([]);
  });
});
