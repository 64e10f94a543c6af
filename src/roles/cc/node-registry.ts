/** Node controllers registered with this CC that run in other processes, with the keys issued to them. */
import { eq } from "drizzle-orm";
import type { CcDatabase } from "./database";
import { drainedNodes, nodeHealth, nodes, placements, unknownGuests } from "./database";
import type { ComponentKey } from "../../rpc/types";
import type { NodeResource } from "../nc/client";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { DuplicateError, NotFoundError } from "../../common/errors";
import { checkRegistration, issueComponentKey } from "../../rpc/registration";

export interface RemoteNode {
  name: string;
  url: string;
  key: ComponentKey;
}

export function listRemoteNodes({ db }: CcDatabase): RemoteNode[] {
  return db
    .select()
    .from(nodes)
    .orderBy(nodes.createdAt)
    .all()
    .map((n) => ({ name: n.name, url: n.url, key: { id: n.componentId, secret: n.secret } }));
}

/** The secret of a registered node's key: the node fetches images from Walrus with it. */
export function nodeKeySecret({ db }: CcDatabase, id: string): string | undefined {
  return db.select({ secret: nodes.secret }).from(nodes).where(eq(nodes.componentId, id)).get()?.secret;
}

/** The node a component key was issued to. */
export function nodeOfKey({ db }: CcDatabase, id: string): string | undefined {
  return db.select({ name: nodes.name }).from(nodes).where(eq(nodes.componentId, id)).get()?.name;
}

/** The node an instance is placed on. */
export function placedOn({ db }: CcDatabase, instanceId: string): string | undefined {
  return db.select({ node: placements.node }).from(placements).where(eq(placements.instanceId, instanceId)).get()?.node;
}

export function registerNode(
  { db }: CcDatabase,
  name: string,
  url: string,
  clock: Clock,
  ids: IdGenerator,
): RemoteNode {
  const origin = checkRegistration("node", name, url);
  if (db.select().from(nodes).where(eq(nodes.name, name)).get()) throw new DuplicateError("node", name);
  const key = issueComponentKey("node", ids);
  db.insert(nodes).values({ name, url: origin, componentId: key.id, secret: key.secret, createdAt: clock.now() }).run();
  return { name, url: origin, key };
}

/** A node that joined (its URL from its certificate's host): registered, or its URL updated when it joins again. */
export function joinNode(cc: CcDatabase, name: string, url: string, clock: Clock, ids: IdGenerator): void {
  const origin = checkRegistration("node", name, url);
  const had = cc.db.select().from(nodes).where(eq(nodes.name, name)).get();
  if (had) cc.db.update(nodes).set({ url: origin }).where(eq(nodes.name, name)).run();
  else registerNode(cc, name, origin, clock, ids);
}

/** Forgets a node; one not registered is already forgotten. */
export function forgetNode(cc: CcDatabase, name: string): void {
  if (cc.db.select().from(nodes).where(eq(nodes.name, name)).get()) deregisterNode(cc, name);
}

export function deregisterNode({ db }: CcDatabase, name: string): void {
  if (!db.select().from(nodes).where(eq(nodes.name, name)).get()) throw new NotFoundError("node", name);
  db.delete(nodes).where(eq(nodes.name, name)).run();
  db.delete(nodeHealth).where(eq(nodeHealth.node, name)).run();
}

export interface NodeHealthRow {
  name: string;
  /** Undefined for a node in the CC's own process. */
  url?: string;
  keyId?: string;
  state: string;
  since?: string;
  lastContact?: string;
  instances: number;
  unknown: number;
  /** "free/max" cores and memory (MB) at its last answer. */
  cores?: string;
  memoryMb?: string;
}

/** Every node the CC knows (registered, or polled in its own process) with the health its running CC recorded. */
export function nodeHealthRows(cc: CcDatabase): NodeHealthRow[] {
  const { db } = cc;
  const health = new Map(
    db
      .select()
      .from(nodeHealth)
      .all()
      .map((h) => [h.node, h]),
  );
  const registered = listRemoteNodes(cc);
  const names = [...new Set([...registered.map((n) => n.name), ...health.keys()])];
  const unknown = db.select().from(unknownGuests).all();
  const drained = new Set(
    db
      .select()
      .from(drainedNodes)
      .all()
      .map((d) => d.node),
  );
  return names.map((name) => {
    const r = registered.find((n) => n.name === name);
    const h = health.get(name);
    const instances = h
      ? (JSON.parse(h.instances) as Array<{ state: string }>).filter((i) => i.state !== "Teardown").length
      : 0;
    const res = h?.resource ? (JSON.parse(h.resource) as NodeResource) : undefined;
    return {
      name,
      url: r?.url,
      keyId: r?.key.id,
      state: `${h?.state ?? "not-polled-yet"}${drained.has(name) ? ",drained" : ""}`,
      since: h?.since.toISOString(),
      lastContact: h?.lastContact?.toISOString(),
      instances,
      unknown: unknown.filter((u) => u.node === name).length,
      ...(res
        ? {
            cores: `${res.numberOfCoresAvailable}/${res.numberOfCoresMax}`,
            memoryMb: `${res.memorySizeAvailable}/${res.memorySizeMax}`,
          }
        : {}),
    };
  });
}

/** A node's VXLAN end: the host of the URL it registered with, or the CC's own address for a node in this process. */
export function nodeAddressOf(
  db: CcDatabase,
  underlay: string,
  isLocal: (node: string) => boolean,
): (node: string) => string | undefined {
  return (node) => {
    if (isLocal(node)) return underlay;
    const r = listRemoteNodes(db).find((n) => n.name === node);
    return r ? new URL(r.url).hostname : undefined;
  };
}

/** Whether a node shares the CC's host: in its process, or registered from the CC's own address. */
export function isNodeOnHost(db: CcDatabase, here: ReadonlySet<string>, host: string): (node: string) => boolean {
  return (node) =>
    here.has(node) || listRemoteNodes(db).some((n) => n.name === node && new URL(n.url).hostname === host);
}
