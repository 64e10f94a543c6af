/**
 * Starts a whole cloud (all roles, in this process) on free loopback ports with a
 * temporary data directory. Logs are captured in memory so tests can read them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { startCloud, type Cloud } from "../../src/cloud";
import { createLogger } from "../../src/common/logger";
import type { Settings } from "../../src/config/settings";
import { resolveSettings } from "../../src/config/resolve";
import type { HostProbe } from "../../src/roles/nc/host-probe";
import type { Clock } from "../../src/common/clock";
import type { IdGenerator } from "../../src/common/ids";

export interface TestCloud {
  cloud: Cloud;
  ec2Url: string;
  admin: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  logs(): string;
  createUser(name: string, opts?: { admin?: boolean }): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  stop(): Promise<void>;
}

/** A node with 4 cores, 4 GiB (+256 MB reserved for the host) and 100 GB. */
export const testProbe: HostProbe = { memoryMb: () => 4096 + 256, cores: () => 4, diskGb: () => 100 };

/** The admin's `verbose` zone listing (name, state) for one testProbe node and the default VM types. */
export const EXPECTED_VERBOSE = [
  ["cluster1", "127.0.0.1"],
  ["|- vm types", "free / max   cpu   ram  disk"],
  ["|- m1.small", "0004 / 0004   1    128     2"],
  ["|- c1.medium", "0004 / 0004   1    256     5"],
  ["|- m1.large", "0002 / 0002   2    512    10"],
  ["|- m1.xlarge", "0002 / 0002   2   1024    20"],
  ["|- c1.xlarge", "0001 / 0001   4   2048    20"],
];
/** The verbose listing's line for the test cloud's one node, after EXPECTED_VERBOSE: its health. */
export const VERBOSE_NODE = ["|- local", /^up {6}0 instances, last contact \d{4}-\d\d-\d\dT[\d:.]+Z$/] as const;

/** Under the run's own directory (made and removed by the global setup), so a run leaves nothing in /tmp. */
export function tempDir(prefix = "euca-test-"): string {
  return mkdtempSync(join(process.env.EUCA_TEST_TMP ?? tmpdir(), prefix));
}

/**
 * The settings a test cloud starts with: every default as `euca run` resolves it, and what a
 * test wants instead — in-process on loopback with ports the system picks, the fake driver,
 * small caches, GREEDY placement (predictable) and a fast node poll.
 */
export function testSettings(dataDir: string, over: Partial<Settings> = {}): Settings {
  return {
    ...resolveSettings({ flags: {}, env: {} }),
    dataDir,
    host: "127.0.0.1",
    ec2Port: 0,
    s3Port: 0,
    webPort: 0,
    ccPort: 0,
    internalPort: 0,
    // Plain HTTP as on loopback, also where a namespace test listens elsewhere (test/e2e/https.test.ts tests TLS).
    tls: "off",
    ncPort: 0,
    hypervisor: "fake",
    qemuAccel: "tcg",
    walrusImageCacheMb: 1024,
    ncCacheMb: 1024,
    schedPolicy: "GREEDY",
    nodePollSeconds: 0.05,
    powerWakeSeconds: 5,
    ...over,
  };
}

export async function startTestCloud(
  o: { settings?: Partial<Settings>; clock?: Clock; dataDir?: string; ids?: IdGenerator; configFile?: string } = {},
): Promise<TestCloud> {
  const dataDir = o.dataDir ?? tempDir();
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const cloud = await startCloud({
    settings: testSettings(dataDir, o.settings),
    log: createLogger("info", sink),
    probe: testProbe,
    clock: o.clock,
    ids: o.ids,
    configFile: o.configFile,
  });
  const keyOf = (name: string) => {
    if (!cloud.identity) return { accessKeyId: "", secretAccessKey: "" }; // no CLC in this process
    const { set } = cloud.identity.credentialSetOf(name);
    return { accessKeyId: set.accessKeyId, secretAccessKey: set.secretKey };
  };
  return {
    cloud,
    ec2Url: cloud.endpoints.ec2Url,
    admin: keyOf("admin"),
    dataDir,
    logs: () => chunks.join(""),
    async createUser(name, opts) {
      await cloud.identity!.createUser(name, { admin: opts?.admin });
      return keyOf(name);
    },
    async stop() {
      await cloud.stop();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A name unique in this test run, so tests can share one cloud. */
export function unique(prefix: string): string {
  return `${prefix}${process.pid}x${++counter}`;
}

/** A loopback port free now (for a listener whose port other hosts must know in advance). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
