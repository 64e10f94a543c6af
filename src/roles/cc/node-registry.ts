/** Node controllers registered with this CC that run in other processes, with the keys issued to them. */
import { eq } from "drizzle-orm";
import type { CcDatabase } from "./database";
import { nodes, placements } from "./database";
import type { ComponentKey } from "../../rpc/types";
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
  return db.select().from(nodes).orderBy(nodes.createdAt).all().map((n) => ({ name: n.name, url: n.url, key: { id: n.componentId, secret: n.secret } }));
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

export function registerNode({ db }: CcDatabase, name: string, url: string, clock: Clock, ids: IdGenerator): RemoteNode {
  const origin = checkRegistration("node", name, url);
  if (db.select().from(nodes).where(eq(nodes.name, name)).get()) throw new DuplicateError("node", name);
  const key = issueComponentKey("node", ids);
  db.insert(nodes).values({ name, url: origin, componentId: key.id, secret: key.secret, createdAt: clock.now() }).run();
  return { name, url: origin, key };
}

export function deregisterNode({ db }: CcDatabase, name: string): void {
  if (!db.select().from(nodes).where(eq(nodes.name, name)).get()) throw new NotFoundError("node", name);
  db.delete(nodes).where(eq(nodes.name, name)).run();
}
