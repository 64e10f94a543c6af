import { randomIds } from "../../src/common/ids";
/**
 * A cluster service wired by hand over two in-process nodes with the fake hypervisor
 * (each 1024 MB, 2 cores): the CC's tests drive it directly. A node can be made silent
 * (its calls fail as an unreachable node's do) to test what the CC does without it.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import pino from "pino";
import { systemClock, type Clock } from "../../src/common/clock";
import { createInProcessClient } from "../../src/rpc/in-process";
import { RpcTransportError } from "../../src/rpc/http-client";
import { FakeHypervisor } from "../../src/hypervisor/fake/fake-hypervisor";
import { openNcDatabase } from "../../src/roles/nc/database";
import { NodeImageCache } from "../../src/roles/nc/image-cache";
import { createNodeService } from "../../src/roles/nc/service";
import { NODE_METHODS, type NodeClient } from "../../src/roles/nc/client";
import { openCcDatabase } from "../../src/roles/cc/database";
import { assembleClusterService } from "../../src/compose/cc";
import type { Policy } from "../../src/roles/cc/placement";
import type { PowerPolicy } from "../../src/roles/cc/node-monitor";
import type { ClusterClient, ClusterRunRequest, GroupRules } from "../../src/roles/cc/client";
import type { WalrusClient } from "../../src/roles/walrus/client";

const log = pino({ level: "silent" });
const ctx = { requestId: "req-cc" };

export interface ClusterOptions {
  policy?: Policy;
  power?: PowerPolicy;
  subnet?: readonly [number, number];
  downMs?: number;
  unknownMs?: number;
  clock?: Clock;
}

export function twoNodeCluster(dir: string, walrus: () => WalrusClient | undefined, opts: ClusterOptions = {}) {
  const probe = { memoryMb: () => 1024 + 256, cores: () => 2, diskGb: () => 100 };
  const clock = opts.clock ?? systemClock;
  const hypervisors = new Map<string, FakeHypervisor>();
  const silent = new Set<string>();
  const nodes = ["node-a", "node-b"].map((name) => {
    const ndir = join(dir, name);
    mkdirSync(ndir, { recursive: true });
    const hypervisor = new FakeHypervisor(join(ndir, "fake"), { memoryMb: 1024, cores: 2, diskGb: 100 }, systemClock);
    hypervisors.set(name, hypervisor);
    const service = createNodeService({
      db: openNcDatabase(join(ndir, "nc.db")),
      hypervisor,
      images: new NodeImageCache(join(ndir, "cache"), 1024 ** 3, walrus),
      probe,
      instancesDir: join(ndir, "instances"),
      limits: { reservedMemoryMb: 256 },
      clock: systemClock,
      log,
    });
    const inner = createInProcessClient(NODE_METHODS, service);
    // Silence: every call fails as a call to a node that does not answer does.
    const client = new Proxy(inner, {
      get:
        (target, method: string) =>
        (...args: unknown[]) => {
          if (silent.has(name))
            return Promise.reject(new RpcTransportError(`nc at ${name} is unreachable: connect ECONNREFUSED`));
          return (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
        },
    }) as NodeClient;
    return { name, client, service };
  });
  const db = openCcDatabase(join(dir, "cc.db"));
  const parts = {
    name: "zone-x",
    host: "127.0.0.1",
    db,
    nodes: () => nodes,
    clock,
    ids: randomIds,
    log,
    pollMs: 0,
    policy: opts.policy ?? ("GREEDY" as Policy),
    power: opts.power,
    plan: { subnet: opts.subnet ?? ([10, 128] as const), addrsPerNet: 32 },
    downMs: opts.downMs ?? 60_000,
    unknownMs: opts.unknownMs ?? 900_000,
  };
  const { service, monitor, network } = assembleClusterService(parts);
  /** A CC restarted over the same database (its monitor and services new). */
  const restart = () => assembleClusterService(parts);
  return { service, monitor, network, hypervisors, db, nodes, silent, restart };
}

let n = 0;
/** `count` instances of one launch, each of `memoryMb`. */
export function clusterRequests(
  image: { id: string; bucket: string; manifestKey: string },
  count: number,
  memoryMb = 512,
): { accountId: string; groupName: string; instances: ClusterRunRequest[]; groups: GroupRules[] } {
  const instances = Array.from({ length: count }, (_, i) => ({
    instanceId: `i-${(0x2000000 + ++n).toString(16).toUpperCase().padStart(8, "0")}`,
    reservationId: "r-00000002",
    accountId: "123456789012",
    image,
    vmType: { name: "m1.test", cpus: 1, memoryMb, diskGb: 1 },
    launchIndex: i,
    groupNames: ["default"],
    groupIds: ["sg-00000001"],
  }));
  return {
    accountId: "123456789012",
    groupName: "default",
    instances,
    groups: [{ groupId: "sg-00000001", rules: [] }],
  };
}

/** The instances once none is Pending. */
export async function settled(cc: ClusterClient, ids: string[]) {
  for (let i = 0; i < 200; i++) {
    const inst = (await cc.describeInstances({ instanceIds: ids }, ctx)).instances;
    if (inst.length === ids.length && inst.every((x) => x.state !== "Pending")) return inst;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("instances did not settle");
}
