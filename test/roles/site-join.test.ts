/**
 * A site joined by token, each role set in its own cloud on loopback: the head (CLC,
 * Walrus), a cluster host (CC, SC) and a node, the latter two joined only with
 * `euca join <token>` — no key copied. The node fetches its image from the head's Walrus
 * over mutual TLS with its own certificate; tokens are one-time and expire; a removed
 * node's certificate is refused.
 */
import { describe, expect, it } from "vitest";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DescribeAvailabilityZonesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { main } from "../../src/cli/program";
import { resolveSettings } from "../../src/config/resolve";
import { decodeJoinToken, encodeJoinToken } from "../../src/rpc/join-token";
import { startTestCloud, tempDir, unique, freePort, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle } from "../support/bundles";
import { ec2Client, waitForInstances } from "../support/ec2";
import { until } from "../support/until";
import { eucarcEnv } from "../support/process";
import { Readable } from "node:stream";
import { createHttpWalrusClient } from "../../src/roles/walrus/http-client";
import { loadHostTls } from "../../src/rpc/host-tls";
import { dataDirLayout } from "../../src/common/data-dir";
import { systemClock } from "../../src/common/clock";
import { randomIds } from "../../src/common/ids";

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { env, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const tokenIn = (out: string) => /euca join (euca1\.\S+)/.exec(out)?.[1] ?? "";

/** Joins a host and starts its roles from the config file `euca join` wrote. */
async function joinAndStart(token: string, dir: string, port: number, kind: "cc" | "nc"): Promise<TestCloud> {
  const r = await cli(["join", token, "--data-dir", dir, "--host", "127.0.0.1", `--${kind}-port`, String(port)]);
  expect(r.code, r.err).toBe(0);
  const file = join(dir, "euca.conf");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, "keys", "host-key.pem")).mode & 0o777).toBe(0o600);
  return startJoined(dir);
}

/** A joined host's roles, started from its config file (as its unit does). */
function startJoined(dir: string): Promise<TestCloud> {
  const configFile = join(dir, "euca.conf");
  const s = resolveSettings({ flags: { config: configFile }, env: {} });
  return startTestCloud({
    dataDir: dir,
    configFile,
    settings: { ...s, ec2Port: 0, s3Port: 0, webPort: 0, nodePollSeconds: 0.05 },
  });
}

describe("a site joined by token", () => {
  it("a cluster host and a node join with `euca join` alone, and an instance runs on the node", async () => {
    const headDir = tempDir();
    const headConfig = join(tempDir(), "head.conf");
    writeFileSync(headConfig, "ROLE=clc,walrus\n");
    const head = await startTestCloud({
      dataDir: headDir,
      configFile: headConfig,
      settings: { roles: ["clc", "walrus"] },
    });
    const clouds: TestCloud[] = [head];
    try {
      expect(head.cloud.internal.clc).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const add = await cli(["admin", "cluster", "add", "zone-b", "--data-dir", headDir]);
      expect(add.code, add.err).toBe(0);
      const clusterToken = tokenIn(add.out);
      expect(decodeJoinToken(clusterToken).url).toBe(head.cloud.internal.clc);

      const ccDir = tempDir();
      let cc = await joinAndStart(clusterToken, ccDir, await freePort(), "cc");
      clouds.push(cc);
      expect(cc.cloud.internal.cc).toMatch(/^https:/);
      const config = readFileSync(join(ccDir, "euca.conf"), "utf8");
      expect(config).toMatch(/^ROLE=cc,sc$/m);
      expect(config).toMatch(/^CLUSTER_NAME=zone-b$/m);
      expect(config).toMatch(/^VNET_MODE=ROOTLESS$/m);
      expect(config).not.toMatch(/SECRET|PRIVATE KEY/);

      // A cluster that joined may join again (a new certificate): the old one is revoked.
      const again = await cli(["admin", "cluster", "add", "zone-b", "--data-dir", headDir]);
      expect(again.code, again.err).toBe(0);
      // A cluster registered with a key is another cluster of that name: no token for it.
      const keyed = ["--url", "http://127.0.0.1:9", "--out", join(tempDir(), "k"), "--data-dir", headDir];
      expect((await cli(["admin", "cluster", "register", "keyed", ...keyed])).code).toBe(0);
      expect((await cli(["admin", "cluster", "add", "keyed", "--data-dir", headDir])).err).toMatch(
        /The cluster 'keyed' already exists/,
      );
      expect((await cli(["admin", "cluster", "deregister", "keyed", "--data-dir", headDir])).code).toBe(0);

      // The token is spent: a second host cannot use it.
      const replay = await cli([
        "join",
        clusterToken,
        "--data-dir",
        tempDir(),
        "--host",
        "127.0.0.1",
        "--cc-port",
        "1",
      ]);
      expect(replay.code).toBe(1);
      expect(replay.err).toMatch(/refused the join \(403\): The join token has been used/);

      const ec2 = ec2Client(head.ec2Url, head.admin);
      await until(
        async () =>
          (await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones?.[0]?.State === "available",
        { what: "zone-b available" },
      );

      const nodeAdd = await cli(["admin", "node", "add", "n1", "--cluster", "zone-b", "--data-dir", headDir]);
      expect(nodeAdd.code, nodeAdd.err).toBe(0);
      const nodeDir = tempDir();
      const node = await joinAndStart(tokenIn(nodeAdd.out), nodeDir, await freePort(), "nc");
      clouds.push(node);
      expect(node.cloud.internal.nc).toMatch(/^https:/);

      const alice = await makeUser(head, unique("alice"));
      const user = ec2Client(head.ec2Url, alice);
      const location = await uploadBundle(head, alice, imageFile("root.img", 100_000));
      const imageId = (await user.send(new RegisterImageCommand({ ImageLocation: location, Name: "joined" }))).ImageId!;
      await until(
        async () => {
          const r = await user
            .send(
              new RunInstancesCommand({
                ImageId: imageId,
                MinCount: 1,
                MaxCount: 1,
                Placement: { AvailabilityZone: "zone-b" },
              }),
            )
            .catch(() => undefined);
          if (r) await waitForInstances(user, [r.Instances![0]!.InstanceId!], "running");
          if (r) await user.send(new TerminateInstancesCommand({ InstanceIds: [r.Instances![0]!.InstanceId!] }));
          return !!r;
        },
        { what: "an instance running on the joined node", timeoutMs: 20_000, everyMs: 500 },
      );

      // Who called whom, as the logs say: the CC the node by its certificate, the node Walrus by its own.
      const calls = (t: TestCloud) =>
        t
          .logs()
          .trim()
          .split("\n")
          .map(
            (l) => JSON.parse(l) as { api?: string; role?: string; action?: string; caller?: string; status?: number },
          )
          .filter((e) => e.api === "internal" && e.status === 200);
      expect(
        calls(node).some((e) => e.role === "nc" && e.action === "runInstance" && e.caller === "cc:zone-b,sc:zone-b"),
      ).toBe(true);
      expect(calls(cc).some((e) => e.role === "cc" && e.action === "runInstances" && e.caller?.startsWith("clc"))).toBe(
        true,
      );
      expect(
        calls(head).some((e) => e.role === "walrus" && e.action === "getDecryptedImage" && e.caller === "nc:zone-b/n1"),
      ).toBe(true);

      // A healthy joined node passes every check of `euca doctor` (its config file, its running process's main port).
      const healthy = await cli([
        "doctor",
        "--config",
        join(nodeDir, "euca.conf"),
        "--ec2-port",
        new URL(node.cloud.endpoints.heartbeatUrl).port,
      ]);
      expect(healthy.out).not.toMatch(/^(WARN|FAIL)/m);
      expect(healthy.out).toMatch(/^PASS\s+reach\.clc/m);
      expect(healthy.out).toMatch(/^PASS\s+reach\.walrus/m);
      expect(healthy.out).toMatch(/^PASS\s+settings\.site/m);
      expect(healthy.out).toMatch(/^PASS\s+clock\.skew/m);
      expect(healthy.code, healthy.out).toBe(0);

      // `euca admin status` (the admin's eucarc, any host): every component, asked now; then with the CC stopped.
      const adminEnv = eucarcEnv(join(headDir, "credentials", "admin"));
      const status = await cli(["admin", "status"], adminEnv);
      expect(status.code, status.err).toBe(0);
      expect(status.out).toMatch(/^clc\s+clc\s+available\s/m);
      expect(status.out).toMatch(/^walrus\s+walrus\s+available\s/m);
      expect(status.out).toMatch(/^cc\s+zone-b\s+available\s+-\s+\S+\s+\d{4}-\d{2}-\d{2}\s+at 127\.0\.0\.1/m);
      expect(status.out).toMatch(/^nc\s+zone-b\/n1\s+up\s+\d{4}-/m);

      // A site setting changed on the head reaches the cluster host: written to its config file, taken at its next start.
      await cc.stop();
      clouds.splice(clouds.indexOf(cc), 1);
      const set = await cli(["admin", "property", "set", "SCHEDPOLICY=ROUNDROBIN"], adminEnv);
      expect(set.out).toMatch(
        /^euca: SCHEDPOLICY=ROUNDROBIN; in force: next start of the head and of every host \(hosts that joined write it into their config file/,
      );
      cc = await startJoined(ccDir);
      clouds.push(cc);
      await until(async () => /^SCHEDPOLICY=ROUNDROBIN$/m.test(readFileSync(join(ccDir, "euca.conf"), "utf8")), {
        what: "the cluster host's config file taking the head's SCHEDPOLICY",
      });
      const pending = await cli(["admin", "status"], adminEnv);
      expect(pending.out).toMatch(/^cc\s+zone-b\s+available\s.*restart its host to take the head's SCHEDPOLICY/m);
      expect(cc.logs()).toMatch(/site settings changed on the head/);

      // Removing the node revokes its certificate: the head's Walrus refuses it (within its refresh).
      const walrusAsNode = createHttpWalrusClient({
        baseUrl: head.cloud.internal.clc!,
        tls: loadHostTls(dataDirLayout(nodeDir)),
        clock: systemClock,
        ids: randomIds,
      });
      const ref = { bucket: location.split("/")[0]!, key: location.split("/").slice(1).join("/") };
      expect(await walrusAsNode.headObject(ref, { requestId: "t" })).toMatchObject({ size: expect.any(Number) });
      await expect(
        walrusAsNode.putObject(ref, { open: () => Readable.from([Buffer.from("x")]), size: 1 }, { requestId: "t" }),
      ).rejects.toThrow(/403 AuthFailure\/not-permitted/);
      const removed = await cli(["admin", "node", "remove", "n1", "--cluster", "zone-b", "--data-dir", headDir]);
      expect(removed.code, removed.err).toBe(0);
      expect(removed.out).toMatch(/1 certificate revoked/);
      await until(
        () =>
          walrusAsNode.headObject(ref, { requestId: "t" }).then(
            () => false,
            () => true,
          ),
        { what: "the head refusing the removed node", timeoutMs: 10_000 },
      );
      await expect(walrusAsNode.headObject(ref, { requestId: "t" })).rejects.toThrow(/401 AuthFailure\/revoked/);

      await cc.stop();
      clouds.splice(clouds.indexOf(cc), 1);
      const stopped = await cli(["admin", "status"], adminEnv);
      expect(stopped.out).toMatch(/^cc\s+zone-b\s+unavailable\s+.*is unreachable/m);
      // The head's heartbeat stays 200 and says which remote cluster does not answer.
      await until(
        async () => /^cc:zone-b=unavailable$/m.test(await (await fetch(head.cloud.endpoints.heartbeatUrl)).text()),
        { what: "the head's heartbeat naming the stopped cluster", timeoutMs: 10_000 },
      );
      expect((await fetch(head.cloud.endpoints.heartbeatUrl)).status).toBe(200);
    } finally {
      for (const c of clouds.reverse()) await c.stop();
    }
  });

  it("refuses an expired token, a damaged one, and one whose fingerprint is not the cloud's that answers", async () => {
    const headDir = tempDir();
    const head = await startTestCloud({ dataDir: headDir, settings: { roles: ["clc", "walrus"] } });
    try {
      const add = await cli(["admin", "cluster", "add", "zone-c", "--ttl", "1s", "--data-dir", headDir]);
      const token = tokenIn(add.out);
      await new Promise((r) => setTimeout(r, 1100)); // the token's lifetime passes
      const expired = await cli(["join", token, "--data-dir", tempDir(), "--host", "127.0.0.1", "--cc-port", "1"]);
      expect(expired.err).toMatch(/expired/);
      // Forged back to life, the CLC still refuses it: its own record says when it expires.
      const revived = encodeJoinToken({ ...decodeJoinToken(token), expires: new Date(Date.now() + 3600_000) });
      const forged = await cli(["join", revived, "--data-dir", tempDir(), "--host", "127.0.0.1", "--cc-port", "1"]);
      expect(forged.err).toMatch(/refused the join \(403\): The join token has expired/);

      const fresh = tokenIn((await cli(["admin", "cluster", "add", "zone-d", "--data-dir", headDir])).out);
      const pinned = encodeJoinToken({ ...decodeJoinToken(fresh), fingerprint: "0".repeat(64) });
      const wrong = await cli(["join", pinned, "--data-dir", tempDir(), "--host", "127.0.0.1", "--cc-port", "1"]);
      expect(wrong.err).toMatch(/is not the one the token names/);
      expect((await cli(["join", "euca1.garbage", "--data-dir", tempDir(), "--host", "127.0.0.1"])).err).toMatch(
        /damaged/,
      );
    } finally {
      await head.stop();
    }
  });
});
