/**
 * The CC's cached view of its nodes. As in Eucalyptus, the CC polls every NC for its
 * resources and instances and answers the CLC from that cache, so a DescribeInstances
 * over a thousand nodes costs no node round trips. A node the CC has just changed
 * (run, terminate, reboot) is invalidated and asked again on the next read, so callers
 * read their own writes; so is a node with instances still pending. Under POWERSAVE the poll also puts idle nodes to sleep, and
 * `wake` brings one back when placement needs it (reference §5.6).
 *
 * A node that does not answer is not read as "its guests are gone": its health moves to
 * suspect, then down (lifecycle/node-health.ts), and its snapshot keeps the instances of its
 * last answer, marked unreported since then. Health and last reports live in cc.db, so a
 * restarted CC still knows what a silent node was running. Requests never wait on a node
 * that is not up: they read its last report, and the background poll asks it again.
 */
import { eq } from "drizzle-orm";
import { healthAfter, type NodeHealth, type NodeHealthState } from "../../lifecycle/node-health";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { UnavailableError } from "../../common/errors";
import { every } from "../../common/periodic";
import type { CallContext } from "../../rpc/types";
import type { NodeClient, NodeInstance, NodeResource } from "../nc/client";
import type { CcDatabase } from "./database";
import { nodeHealth, sleepingNodes } from "./database";

export interface ClusterNode {
  name: string;
  client: NodeClient;
}

export interface NodeSnapshot {
  name: string;
  /** What it offers; undefined unless it answered its last poll (a silent node offers nothing). */
  resource?: NodeResource;
  /** Its instances: from its last answer, which is older than this poll when `unreportedSince` is set. */
  instances: NodeInstance[];
  health: NodeHealth;
  /** Set when the node did not answer: the time of its last answer (or since when it has been silent). */
  unreportedSince?: number;
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
  /** A node silent this long is down (NODE_DOWN_SECONDS). */
  downMs: number;
  /** How long a poll waits for a node's answer before counting it silent. */
  answerMs?: number;
  /** After each polling round, with every node's snapshot (the unknown-guest review). */
  afterPoll?: (views: readonly NodeSnapshot[], ctx: CallContext) => Promise<void>;
}

export interface NodeMonitor {
  /** Every node's snapshot, asking those whose report is older than `maxAgeMs` (default: the poll interval). */
  snapshots(ctx: CallContext, maxAgeMs?: number): Promise<NodeSnapshot[]>;
  node(name: string): ClusterNode | undefined;
  /** Forget a node's report after changing it, so the next read asks it. */
  invalidate(name: string): void;
  /** A node's health as last polled (undefined: not polled yet). */
  health(name: string): NodeHealth | undefined;
  /** The admin fenced the node (it is powered off): recorded until it answers again. */
  fence(name: string): void;
  /** Wakes a sleeping node and waits until it answers (or throws after POWER_WAKETHRESH). */
  wake(name: string, ctx: CallContext): Promise<void>;
  /** One polling round: refresh every node, then (POWERSAVE) put idle ones to sleep. */
  poll(ctx: CallContext): Promise<void>;
  /** Polls every `pollMs` in the background until the returned function is called (it waits for the round under way). */
  start(): () => Promise<void>;
}

const active = (i: NodeInstance) => i.state !== "Teardown";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the monitor keeps of each node between polls, as cc.db's node_health row holds it. */
interface Known {
  health: NodeHealth;
  instances: NodeInstance[];
  resource?: NodeResource;
  /** The row as last written (JSON of instances, last contact): what is new is written at the end of a round. */
  written?: { instances: string; lastContact?: number };
}

/** A last contact this much newer than the one written is written again (a restarted CC may show it that much behind). */
const CONTACT_WRITE_MS = 30_000;

function dirty(k: Known, instancesJson: string): boolean {
  const w = k.written;
  return !w || w.instances !== instancesJson || (k.health.lastContact ?? 0) - (w.lastContact ?? 0) >= CONTACT_WRITE_MS;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)),
  );
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function createNodeMonitor(o: NodeMonitorDeps): NodeMonitor {
  const { db, sqlite } = o.db;
  const cache = new Map<string, NodeSnapshot>();
  const inflight = new Map<string, Promise<NodeSnapshot>>();
  const idleSince = new Map<string, number>();
  const now = () => o.clock.now().getTime();
  const answerMs = o.answerMs ?? Math.max(5_000, 2 * o.pollMs);

  const known = new Map<string, Known>(
    db
      .select()
      .from(nodeHealth)
      .all()
      .map((r) => {
        const health = {
          state: r.state,
          since: r.since.getTime(),
          ...(r.lastContact ? { lastContact: r.lastContact.getTime() } : {}),
        };
        return [
          r.node,
          {
            health,
            instances: JSON.parse(r.instances) as NodeInstance[],
            ...(r.resource ? { resource: JSON.parse(r.resource) as NodeResource } : {}),
            written: { instances: r.instances, lastContact: health.lastContact },
          },
        ];
      }),
  );

  /** Writes what is new (one transaction per round; a change of state is written at once). */
  function persist(only?: string): void {
    const rows = [...known].flatMap(([name, k]) => {
      const instances = JSON.stringify(k.instances);
      return (only === undefined || only === name) && (only !== undefined || dirty(k, instances))
        ? [{ name, k, instances }]
        : [];
    });
    if (!rows.length) return;
    sqlite.transaction(() => {
      for (const { name, k, instances } of rows) {
        const row = {
          state: k.health.state,
          since: new Date(k.health.since),
          lastContact: k.health.lastContact ? new Date(k.health.lastContact) : null,
          instances,
          resource: k.resource ? JSON.stringify(k.resource) : null,
        };
        db.insert(nodeHealth)
          .values({ node: name, ...row })
          .onConflictDoUpdate({ target: nodeHealth.node, set: row })
          .run();
        k.written = { instances, lastContact: k.health.lastContact };
      }
    })();
  }

  function record(
    name: string,
    answer: { instances: NodeInstance[]; resource: NodeResource } | undefined,
    ctx: CallContext,
  ): Known {
    const prev = known.get(name);
    const health = healthAfter(prev?.health, answer !== undefined, now(), o.downMs);
    const resource = answer?.resource ?? prev?.resource;
    const k: Known = {
      health,
      instances: answer?.instances ?? prev?.instances ?? [],
      ...(resource ? { resource } : {}),
      written: prev?.written,
    };
    known.set(name, k);
    const from: NodeHealthState | undefined = prev?.health.state;
    if (from !== health.state) {
      const fields = {
        requestId: ctx.requestId,
        node: name,
        from: from ?? "new",
        to: health.state,
        lastContact: health.lastContact && new Date(health.lastContact).toISOString(),
      };
      if (health.state === "up") o.log.info(fields, "cc: node is up");
      else
        o.log.warn(
          fields,
          health.state === "down"
            ? "cc: node is down; its instances are kept and shown impaired"
            : "cc: node missed a poll",
        );
      persist(name);
    }
    return k;
  }

  async function ask(node: ClusterNode, ctx: CallContext): Promise<NodeSnapshot> {
    try {
      const [resource, { instances }] = await withDeadline(
        Promise.all([node.client.describeResource({}, ctx), node.client.describeInstances({}, ctx)]),
        answerMs,
        `node ${node.name}`,
      );
      const k = record(node.name, { instances, resource }, ctx);
      return { name: node.name, resource, instances, health: k.health, asleep: false, fetchedAt: now() };
    } catch (e) {
      // Silence is not an answer: what the node last reported is kept, marked unreported.
      const k = record(node.name, undefined, ctx);
      if (k.health.state === "suspect")
        o.log.warn({ requestId: ctx.requestId, node: node.name, err: (e as Error).message }, "node did not report");
      return {
        name: node.name,
        instances: k.instances,
        health: k.health,
        unreportedSince: k.health.lastContact ?? k.health.since,
        asleep: false,
        fetchedAt: now(),
      };
    }
  }

  function refresh(node: ClusterNode, ctx: CallContext): Promise<NodeSnapshot> {
    let p = inflight.get(node.name);
    if (!p) {
      p = ask(node, ctx)
        .then((s) => {
          cache.set(node.name, s);
          return s;
        })
        .finally(() => inflight.delete(node.name));
      inflight.set(node.name, p);
    }
    return p;
  }

  const sleeping = () =>
    new Map(
      db
        .select()
        .from(sleepingNodes)
        .all()
        .map((r) => [r.node, JSON.parse(r.resource) as NodeResource]),
    );

  async function snapshots(ctx: CallContext, maxAgeMs = o.pollMs): Promise<NodeSnapshot[]> {
    const asleep = sleeping();
    return Promise.all(
      o.nodes().map(async (node) => {
        const resource = asleep.get(node.name);
        const health = known.get(node.name)?.health ?? { state: "up" as const, since: now() };
        if (resource) return { name: node.name, resource, instances: [], health, asleep: true, fetchedAt: now() };
        const cached = cache.get(node.name);
        // A request does not wait on a node that is not up: its last report stands until the poll hears it.
        if (cached?.unreportedSince !== undefined && maxAgeMs > 0) return cached;
        // Pending is a moment, not a state to cache: such a node is asked again, so launches show running at once.
        const fresh =
          cached && now() - cached.fetchedAt < maxAgeMs && !cached.instances.some((i) => i.state === "Pending");
        return fresh ? cached : refresh(node, ctx);
      }),
    );
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
        o.log.warn(
          { requestId: ctx.requestId, node: v.name, err: (e as Error).message },
          "cc: node refused to power down",
        );
        continue;
      }
      const free = {
        ...v.resource,
        memorySizeAvailable: v.resource.memorySizeMax,
        numberOfCoresAvailable: v.resource.numberOfCoresMax,
        diskSizeAvailable: v.resource.diskSizeMax,
      };
      db.insert(sleepingNodes)
        .values({ node: v.name, resource: JSON.stringify(free), since: o.clock.now() })
        .onConflictDoNothing()
        .run();
      cache.delete(v.name);
      idleSince.delete(v.name);
      o.log.info({ requestId: ctx.requestId, node: v.name, idleMs: now() - since }, "cc: idle node powered down");
    }
  }

  async function poll(ctx: CallContext): Promise<void> {
    const views = await snapshots(ctx, 0);
    persist();
    if (o.power) await powerDownIdle(views, ctx, o.power);
    await o.afterPoll?.(views, ctx);
  }

  return {
    snapshots,
    node,
    invalidate: (name) => void cache.delete(name),
    health: (name) => known.get(name)?.health,

    fence(name) {
      const prev = known.get(name);
      known.set(name, {
        health: { ...prev?.health, state: "fenced", since: now() },
        instances: [],
        written: prev?.written,
      });
      cache.delete(name);
      persist(name);
    },

    async wake(name, ctx) {
      const n = node(name);
      if (!n) throw new UnavailableError(`node ${name} is not registered`);
      const deadline = now() + (o.power?.wakeMs ?? 0);
      await n.client
        .powerUp({}, ctx)
        .catch((e) =>
          o.log.warn({ requestId: ctx.requestId, node: name, err: (e as Error).message }, "cc: wake request failed"),
        );
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

    start: () =>
      every(
        o.pollMs,
        (n) => poll({ requestId: `cc-poll-${n}` }),
        (e) => o.log.error({ err: e }, "cc: polling round failed"),
      ),
  };
}
