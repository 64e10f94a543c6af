/**
 * A node away longer than every threshold, with the head (CLC, Walrus, CC) and the NC as
 * separate built processes: `kill -9` of the NC leaves its instances running (impaired once
 * unreported past INSTANCE_REACHABILITY_SECONDS), releases nothing, keeps a terminate
 * issued meanwhile and carries it out when the node is back; a guest that died while its
 * node was away comes back terminated with its reason, and only then is its address free
 * and handed to a new launch. The public pool holds two addresses, so a launch made while
 * the node is away cannot have one the silent node may still route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { join } from "node:path";
import { existsSync, rmSync } from "node:fs";
import {
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from "@aws-sdk/client-ec2";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { imageFile } from "../support/bundles";
import { until } from "../support/until";
import { ec2Client } from "../support/ec2";

let head: EucaProcess;
let node: EucaProcess | undefined;
let headDir: string;
let nodeDir: string;
let ncPort = 0;
let ec2: EC2Client;
let emi = "";

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
const startNode = () =>
  startEuca([
    "run",
    "--role",
    "nc",
    "--data-dir",
    nodeDir,
    "--ec2-port",
    "0",
    "--nc-port",
    String(ncPort),
    "--hypervisor",
    "fake",
    "--walrus-url",
    new URL(head.ec2Url).origin,
  ]);

async function euca(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await run(process.execPath, [BUNDLE, ...args], {
    env: { PATH: process.env.PATH, ...env },
    timeoutMs: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

async function instance(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
}
async function status(id: string): Promise<string | undefined> {
  return (await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }))).InstanceStatuses?.[0]?.SystemStatus
    ?.Status;
}
async function launch(): Promise<string> {
  const id = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!
    .InstanceId!;
  await until(async () => (await instance(id)).State!.Name === "running", { timeoutMs: 30_000 });
  return id;
}

beforeAll(async () => {
  headDir = tempDir();
  nodeDir = tempDir();
  ncPort = await freePort();
  head = await startEuca([
    "run",
    "--role",
    "clc,walrus,cc",
    "--data-dir",
    headDir,
    "--ec2-port",
    "0",
    "--s3-port",
    "0",
    "--hypervisor",
    "fake",
    "--node-poll-seconds",
    "0.2",
    "--node-down-seconds",
    "1",
    "--instance-reachability-seconds",
    "2",
    "--public-ips",
    "127.65.0.2-127.65.0.3",
  ]);
  node = await startNode();
  const keyFile = join(tempDir(), "node.key");
  await euca([
    "admin",
    "node",
    "register",
    "node-b",
    "--url",
    `http://127.0.0.1:${ncPort}`,
    "--out",
    keyFile,
    "--data-dir",
    headDir,
  ]);
  await euca(["admin", "component-key", "install", keyFile, "--data-dir", nodeDir]);
  const credDir = join(headDir, "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  const env = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)]));
  emi = /IMAGE\t(\S+)/.exec(
    await euca(["image", "import", imageFile("root.img", 300_000), "--name", "away"], env),
  )![1]!;
  ec2 = ec2Client(head.ec2Url, { accessKeyId: v.EC2_ACCESS_KEY!, secretAccessKey: v.EC2_SECRET_KEY! });
}, 120_000);

afterAll(async () => {
  for (const p of [head, node]) p?.child.kill("SIGTERM");
  await Promise.all([head?.exited, node?.exited]);
});

describe("a node away longer than every threshold", () => {
  it("keeps its instances and addresses, carries out a terminate on return, and ends a lost guest with its reason before its address is handed out", async () => {
    const kept = await launch();
    const lost = await launch();
    const addressOf = async (id: string) => (await instance(id)).PublicIpAddress;
    const [keptIp, lostIp] = [await addressOf(kept), await addressOf(lost)];
    expect([keptIp, lostIp].sort()).toEqual(["127.65.0.2", "127.65.0.3"]);
    expect(await status(kept)).toBe("ok");

    node!.child.kill("SIGKILL");
    await node!.exited;
    // Away: impaired after the (shortened) threshold, and still running, with its address.
    await until(async () => (await status(kept)) === "impaired", { timeoutMs: 30_000 });
    const away = await instance(kept);
    expect([away.State!.Name, away.PublicIpAddress]).toEqual(["running", keptIp]);
    const st = (await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [kept] }))).InstanceStatuses![0]!;
    expect(st.InstanceStatus!.Details![0]).toMatchObject({ Name: "reachability", Status: "failed" });
    expect(st.SystemStatus!.Details![0]!.ImpairedSince).toBeInstanceOf(Date);
    // The admin sees the node down, its instances counted.
    expect(await euca(["admin", "node", "list", "--data-dir", headDir])).toMatch(
      /^node-b\s+http:\/\/127\.0\.0\.1:\d+\s+down\s+\S+\s+\S+\s+2\s+0\s/m,
    );

    // A terminate meanwhile is kept: shutting-down, its address still held.
    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [kept] }));
    expect(term.TerminatingInstances![0]!.CurrentState!.Name).toBe("shutting-down");
    // The pool is empty while the node may still route both addresses: a launch cannot take one.
    await expect(ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).rejects.toMatchObject({
      name: "InsufficientInstanceCapacity",
    });
    await new Promise((r) => setTimeout(r, 3_000)); // well past every threshold
    expect((await instance(kept)).State!.Name).toBe("shutting-down");
    expect((await instance(lost)).State!.Name).toBe("running");
    expect([await addressOf(kept), await addressOf(lost)]).toEqual([keptIp, lostIp]);

    // The lost guest died with its node away (its domain is gone), then the node comes back.
    rmSync(join(nodeDir, "nc", "fake", "domains", `${lost}.json`));
    node = await startNode();
    await until(async () => (await instance(kept)).State!.Name === "terminated", { timeoutMs: 30_000 });
    await until(async () => (await instance(lost)).State!.Name === "terminated", { timeoutMs: 30_000 });
    expect((await instance(kept)).StateReason?.Message).toMatch(/User initiated/);
    expect((await instance(lost)).StateReason?.Message).toMatch(/^Server\.InternalError: /);
    // Only now are the addresses free: a new launch gets one and runs.
    const next = await launch();
    expect([keptIp, lostIp]).toContain(await addressOf(next));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [next] }));
  }, 180_000);

  it("`euca admin node evacuate --fenced` is the one way to give a dead node's instances up: with a reason, their addresses freed, its guests destroyed if it answers again", async () => {
    const id = await launch();
    node!.child.kill("SIGKILL");
    await node!.exited;
    await until(async () => (await status(id)) === "impaired", { timeoutMs: 30_000 });
    const refused = await run(
      process.execPath,
      [BUNDLE, "admin", "node", "evacuate", "node-b", "--data-dir", headDir],
      { env: { PATH: process.env.PATH }, timeoutMs: 60_000 },
    );
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/--fenced/);
    expect((await instance(id)).State!.Name).toBe("running");

    expect(await euca(["admin", "node", "evacuate", "node-b", "--fenced", "--data-dir", headDir])).toContain(
      `instances given up: ${id}`,
    );
    await until(async () => (await instance(id)).State!.Name === "terminated", { timeoutMs: 30_000 });
    expect((await instance(id)).StateReason?.Message).toMatch(/fenced by the administrator/);
    expect(await euca(["admin", "node", "list", "--data-dir", headDir])).toMatch(/^node-b\s+\S+\s+fenced\s/m);

    // It was not off after all: once it answers, its guest is destroyed and it takes instances again.
    node = await startNode();
    await until(async () => !existsSync(join(nodeDir, "nc", "fake", "domains", `${id}.json`)), { timeoutMs: 30_000 });
    const next = await launch();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [next] }));
  }, 180_000);
});
