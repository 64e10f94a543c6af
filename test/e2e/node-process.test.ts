/**
 * CC and NC as separate processes of the built euca: the head runs CLC, Walrus and CC; a
 * second process runs only an NC. The node is registered with `euca admin node register`,
 * keyed with `component-key install`, fetches the image from the head's Walrus with its own
 * key, and runs the instance the head was asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { imageFile } from "../support/bundles";
import { ec2Client } from "../support/ec2";

let head: EucaProcess;
let node: EucaProcess;
let headDir: string;
let nodeDir: string;

beforeAll(async () => {
  headDir = tempDir();
  nodeDir = tempDir();
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
  ]);
  node = await startEuca([
    "run",
    "--role",
    "nc",
    "--data-dir",
    nodeDir,
    "--ec2-port",
    "0",
    "--nc-port",
    "0",
    "--hypervisor",
    "fake",
    "--walrus-url",
    new URL(head.ec2Url).origin,
  ]);
});
afterAll(async () => {
  for (const p of [head, node]) p?.child.kill("SIGTERM");
  await Promise.all([head?.exited, node?.exited]);
});

async function euca(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await run(process.execPath, [BUNDLE, ...args], {
    env: { PATH: process.env.PATH, ...env },
    timeoutMs: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe("CC and NC in separate processes", () => {
  it("a registered node runs the instance, its image fetched from the head's Walrus with the node's key", async () => {
    const ncUrl = / nc=(\S+)/.exec(node.stdout())![1]!;
    const keyFile = join(tempDir(), "node.key");
    await euca(["admin", "node", "register", "node-b", "--url", ncUrl, "--out", keyFile, "--data-dir", headDir]);
    await euca(["admin", "component-key", "install", keyFile, "--data-dir", nodeDir]);

    const credDir = join(headDir, "credentials", "admin");
    const v = readEucarc(join(credDir, "eucarc"));
    const env = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)]));
    const imported = await euca(["image", "import", imageFile("root.img", 300_000), "--name", "split"], env);
    const emi = /IMAGE\t(\S+)/.exec(imported)![1]!;

    const ec2 = ec2Client(head.ec2Url, { accessKeyId: v.EC2_ACCESS_KEY!, secretAccessKey: v.EC2_SECRET_KEY! });
    const id = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId!;
    let state = "";
    for (let i = 0; i < 150 && state !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
        .Instances![0]!;
      state = inst.State!.Name!;
      if (state === "terminated") throw new Error(`instance failed: ${inst.StateReason?.Message}`);
    }
    expect(state).toBe("running");
    const console_ = Buffer.from(
      (await ec2.send(new GetConsoleOutputCommand({ InstanceId: id }))).Output ?? "",
      "base64",
    ).toString();
    expect(console_).toContain(`${id} login:`);
    // The node process logged the CC's call for this launch: it really ran there.
    expect(node.stderr()).toContain('"action":"runInstance"');
    // A rule is in force on the node process (CC → NC over signed HTTP) when the call returns.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: "default",
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 2222, ToPort: 2222, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const domain = JSON.parse(readFileSync(join(nodeDir, "nc", "fake", "domains", `${id}.json`), "utf8")) as {
      forwards: Array<{ port: number }>;
    };
    expect(domain.forwards.map((f) => f.port)).toEqual([2222, 2222]); // private and public address
    expect(node.stderr()).toContain('"action":"setForwards"');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupName: "default",
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 2222, ToPort: 2222, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
  });
});
