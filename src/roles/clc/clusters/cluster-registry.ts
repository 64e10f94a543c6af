/** Clusters registered with the CLC that run in other processes, with the keys issued to them. */
import { eq, isNotNull } from "drizzle-orm";
import type { ClcDatabase } from "../database";
import { clusters, components } from "../schema";
import type { ComponentKey } from "../../../rpc/types";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import { DuplicateError, NotFoundError } from "../../../common/errors";
import { checkRegistration, issueComponentKey } from "../../../rpc/registration";

export interface RemoteCluster {
  name: string;
  url: string;
  key: ComponentKey;
}

export function listRemoteClusters({ db }: ClcDatabase): RemoteCluster[] {
  return db
    .select({ name: clusters.name, url: clusters.url, id: components.id, secret: components.secret })
    .from(clusters)
    .innerJoin(components, eq(components.id, clusters.componentId))
    .where(isNotNull(clusters.url))
    .all()
    .map((r) => ({ name: r.name, url: r.url!, key: { id: r.id, secret: r.secret } }));
}

/** The secret of a registered cluster's key: its nodes fetch images from Walrus with it. */
export function clusterKeySecret({ db }: ClcDatabase, id: string): string | undefined {
  return db
    .select({ secret: components.secret })
    .from(components)
    .innerJoin(clusters, eq(components.id, clusters.componentId))
    .where(eq(components.id, id))
    .get()?.secret;
}

/** The cluster a component key was issued to. */
export function clusterOfKey({ db }: ClcDatabase, id: string): string | undefined {
  return db.select({ name: clusters.name }).from(clusters).where(eq(clusters.componentId, id)).get()?.name;
}

/** Registers a cluster controller at `url` and issues its component key. */
export function registerCluster(
  { db, sqlite }: ClcDatabase,
  name: string,
  url: string,
  clock: Clock,
  ids: IdGenerator,
): RemoteCluster {
  const origin = checkRegistration("cluster", name, url);
  if (db.select().from(clusters).where(eq(clusters.name, name)).get()) throw new DuplicateError("cluster", name);
  const key = issueComponentKey("cluster", ids);
  sqlite.transaction(() => {
    db.insert(components).values({ id: key.id, role: "cc", name, secret: key.secret, createdAt: clock.now() }).run();
    db.insert(clusters).values({ name, url: origin, componentId: key.id, createdAt: clock.now() }).run();
  })();
  return { name, url: origin, key };
}

export function deregisterCluster({ db, sqlite }: ClcDatabase, name: string): void {
  const row = db.select().from(clusters).where(eq(clusters.name, name)).get();
  if (!row) throw new NotFoundError("cluster", name);
  sqlite.transaction(() => {
    db.delete(clusters).where(eq(clusters.name, name)).run();
    if (row.componentId) db.delete(components).where(eq(components.id, row.componentId)).run();
  })();
}
