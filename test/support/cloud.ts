/**
 * Starts a whole cloud (all roles, in this process) on free loopback ports with a
 * temporary data directory. Logs are captured in memory so tests can read them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startCloud, type Cloud } from "../../src/cloud";
import { createLogger } from "../../src/common/logger";
import type { Settings } from "../../src/config/settings";
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

export function testSettings(dataDir: string, over: Partial<Settings> = {}): Settings {
  return {
    roles: ["clc", "cc", "nc", "walrus", "sc"],
    dataDir,
    host: "127.0.0.1",
    ec2Port: 0,
    s3Port: 0,
    webPort: 0,
    webCert: "",
    webKey: "",
    webUrl: "",
    webSessionMinutes: 30,
    webLoginAttempts: 5,
    webLockoutMinutes: 15,
    webAuditMaxRows: 100000,
    webSignupFields: "telephone,affiliation,projectLeader,description",
    smtpUrl: "",
    mailFrom: "euca@localhost",
    ccPort: 0,
    ncPort: 0,
    hypervisor: "fake",
    qemuAccel: "tcg",
    logLevel: "info",
    clusterName: "cluster1",
    region: "eucalyptus",
    s3Domain: "walrus.localhost",
    walrusMaxBuckets: 5,
    walrusMaxBucketMb: 5120,
    walrusImageCacheMb: 1024,
    walrusLifecycleSeconds: 60,
    walrusLifecycleDaySeconds: 86400,
    ncCacheMb: 1024,
    schedPolicy: "GREEDY",
    publicIps: "",
    maxAddressesPerUser: 5,
    vnetSubnet: "",
    vnetAddrsPerNet: 32,
    vnetMode: "ROOTLESS",
    vnetPubInterface: "eth0",
    vnetPrivInterface: "eth0",
    vnetSegment: "vxlan",
    vnetLocalIp: "",
    vnetCloudIp: "",
    vnetDns: "",
    vnetDhcpUser: "nobody",
    vnetBridge: "br0",
    vnetMacMap: "",
    vnetNetmask: "255.255.255.0",
    vnetRouter: "",
    vnetBroadcast: "",
    scMaxVolumeGb: 10,
    scMaxTotalGb: 50,
    scMaxVolumesPerUser: 20,
    scVolumeFormat: "raw",
    scVolumesDir: "",
    scNbdPorts: "10810-10999",
    scExport: "nbd",
    scIscsiPort: 3260,
    nodePollSeconds: 0.05,
    nodeDownSeconds: 60,
    unknownInstanceSeconds: 900,
    instanceReachabilitySeconds: 300,
    powerIdleSeconds: 300,
    powerWakeSeconds: 5,
    fakeNodes: 1,
    walrusUrl: "",
    maxMem: 0,
    maxCores: 0,
    maxDisk: 0,
    longIds: false,
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
