/**
 * The CC's cached view of its nodes. As in Eucalyptus, the CC polls every NC for its
 * resources and instances and answers the CLC from that cache, so a DescribeInstances
 * over a thousand nodes costs no node round trips. A node the CC has just changed
 * (run, terminate, reboot) is invalidated and asked again on the next read, so callers
 * read their own writes; so is a node with instances still pending. Under POWERSAVE the poll also puts idle nodes to sleep, and
 * `wake` brings one back when placement needs it (reference §5.6).
 */
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { UnavailableError } from "../../common/errors";
import { every } from "../../common/periodic";
import type { CallContext } from "../../rpc/types";
import type { NodeClient, NodeInstance, NodeResource } from "../nc/client";
import type { CcDatabase } from "./database";
import { sleepingNodes } from "./database";

export interface ClusterNode {
  name: string;
  client: NodeClient;
}

export interface NodeSnapshot {
  name: string;
  /** Undefined when the node did not answer its last poll. */
  resource?: NodeResource;
  instances: NodeInstance[];
  /** Asleep (POWERSAVE): `resource` is what it offers once woken. */
  asleep: boolean;
  fetchedAt: number;
}

export interface PowerPolicy {
  /** A node without instances for this long is put to sleep (POWER_IDLETHRESH). */
  idleMs: number;
  /** A woken node that does not answer within this long is considered down (POWER_WAKETHRESH). */
  wakeMs: number;
}

export interface NodeMonitorDeps {
  nodes: () => readonly ClusterNode[];
  db: CcDatabase;
  clock: Clock;
  log: Logger;
  /** How old a cached report may be before a read asks the node again. */
  pollMs: number;
  /** Set under POWERSAVE only. */
  power?: PowerPolicy;
}

export interface NodeMonitor {
  /** Every node's snapshot, asking those whose report is older than `maxAgeMs` (default: the poll interval). */
  snapshots(ctx: CallContext, maxAgeMs?: number): Promise<NodeSnapshot[]>;
  node(name: string): ClusterNode | undefined;
  /** Forget a node's report after changing it, so the next read asks it. */
  invalidate(name: string): void;
  /** Wakes a sleeping node and waits until it answers (or throws after POWER_WAKETHRESH). */
  wake(name: string, ctx: CallContext): Promise<void>;
  /** One polling round: refresh every node, then (POWERSAVE) put idle ones to sleep. */
  poll(ctx: CallContext): Promise<void>;
  /** Polls every `pollMs` in the background until the returned function is called (it waits for the round under way). */
  start(): () => Promise<void>;
}

const active = (i: NodeInstance) => i.state !== "Teardown";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createNodeMonitor(o: NodeMonitorDeps): NodeMonitor {
  const { db } = o.db;
  const cache = new Map<string, NodeSnapshot>();
  const inflight = new Map<string, Promise<NodeSnapshot>>();
  const idleSince = new Map<string, number>();
  const now = () => o.clock.now().getTime();

  const sleeping = () => new Map(db.select().from(sleepingNodes).all().map((r) => [r.node, JSON.parse(r.resource) as NodeResource]));

  async function ask(node: ClusterNode, ctx: CallContext): Promise<NodeSnapshot> {
    try {
      const [resource, { instances }] = await Promise.all([node.client.describeResource({}, ctx), node.client.describeInstances({}, ctx)]);
      return { name: node.name, resource, instances, asleep: false, fetchedAt: now() };
    } catch (e) {
      // An unreachable node contributes nothing, as in Eucalyptus; say so in the log.
      o.log.warn({ requestId: ctx.requestId, node: node.name, err: (e as Error).message }, "node did not report");
      return { name: node.name, instances: [], asleep: false, fetchedAt: now() };
    }
  }

  function refresh(node: ClusterNode, ctx: CallContext): Promise<NodeSnapshot> {
    let p = inflight.get(node.name);
    if (!p) {
      p = ask(node, ctx).then((s) => {
        cache.set(node.name, s);
        return s;
      }).finally(() => inflight.delete(node.name));
      inflight.set(node.name, p);
    }
    return p;
  }

  async function snapshots(ctx: CallContext, maxAgeMs = o.pollMs): Promise<NodeSnapshot[]> {
    const asleep = sleeping();
    return Promise.all(o.nodes().map(async (node) => {
      const resource = asleep.get(node.name);
      if (resource) return { name: node.name, resource, instances: [], asleep: true, fetchedAt: now() };
      const cached = cache.get(node.name);
      // Pending is a moment, not a state to cache: such a node is asked again, so launches show running at once.
      const fresh = cached && now() - cached.fetchedAt <= maxAgeMs && !cached.instances.some((i) => i.state === "Pending");
      return fresh ? cached : refresh(node, ctx);
    }));
  }

  const node = (name: string) => o.nodes().find((n) => n.name === name);

  async function powerDownIdle(views: NodeSnapshot[], ctx: CallContext, p: PowerPolicy): Promise<void> {
    for (const v of views) {
      if (v.asleep || !v.resource?.powerControl) continue;
      if (v.instances.some(active)) {
        idleSince.delete(v.name);
        continue;
      }
      const since = idleSince.get(v.name) ?? now();
      idleSince.set(v.name, since);
      if (now() - since < p.idleMs) continue;
      try {
        await node(v.name)!.client.powerDown({}, ctx);
      } catch (e) {
        o.log.warn({ requestId: ctx.requestId, node: v.name, err: (e as Error).message }, "cc: node refused to power down");
        continue;
      }
      const free = { ...v.resource, memorySizeAvailable: v.resource.memorySizeMax, numberOfCoresAvailable: v.resource.numberOfCoresMax, diskSizeAvailable: v.resource.diskSizeMax };
      db.insert(sleepingNodes).values({ node: v.name, resource: JSON.stringify(free), since: o.clock.now() }).onConflictDoNothing().run();
      cache.delete(v.name);
      idleSince.delete(v.name);
      o.log.info({ requestId: ctx.requestId, node: v.name, idleMs: now() - since }, "cc: idle node powered down");
    }
  }

  async function poll(ctx: CallContext): Promise<void> {
    const views = await snapshots(ctx, 0);
    if (o.power) await powerDownIdle(views, ctx, o.power);
  }

  return {
    snapshots,
    node,
    invalidate: (name) => void cache.delete(name),

    async wake(name, ctx) {
      const n = node(name);
      if (!n) throw new UnavailableError(`node ${name} is not registered`);
      const deadline = now() + (o.power?.wakeMs ?? 0);
      await n.client.powerUp({}, ctx).catch((e) => o.log.warn({ requestId: ctx.requestId, node: name, err: (e as Error).message }, "cc: wake request failed"));
      for (;;) {
        try {
          await n.client.describeResource({}, ctx);
          break;
        } catch (e) {
          if (now() >= deadline) throw new UnavailableError(`node ${name} did not wake up: ${(e as Error).message}`);
          await sleep(200);
        }
      }
      db.delete(sleepingNodes).where(eq(sleepingNodes.node, name)).run();
      cache.delete(name);
      o.log.info({ requestId: ctx.requestId, node: name }, "cc: node woken");
    },

    poll,

    start: () => every(o.pollMs, (n) => poll({ requestId: `cc-poll-${n}` }), (e) => o.log.error({ err: e }, "cc: polling round failed")),
  };
}
