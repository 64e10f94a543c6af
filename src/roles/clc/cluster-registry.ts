/** Clusters registered with the CLC that run in other processes, with the keys issued to them. */
import { eq, isNotNull } from "drizzle-orm";
import type { ClcDatabase } from "./database";
import { clusters, components } from "./schema";
import type { ComponentKey } from "../../rpc/types";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { DuplicateError, InvalidParameterError, NotFoundError } from "../../common/errors";

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

/** Registers a cluster controller at `url` and issues its component key. */
export function registerCluster({ db, sqlite }: ClcDatabase, name: string, url: string, clock: Clock, ids: IdGenerator): RemoteCluster {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new InvalidParameterError("name", `'${name}' is not a valid cluster name`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidParameterError("url", `'${url}' is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InvalidParameterError("url", "The cluster URL must be http or https");
  if (db.select().from(clusters).where(eq(clusters.name, name)).get()) throw new DuplicateError("cluster", name);
  const key = { id: `ECK${ids.accessKeyId().slice(3)}`, secret: ids.secretKey() };
  sqlite.transaction(() => {
    db.insert(components).values({ id: key.id, role: "cc", name, secret: key.secret, createdAt: clock.now() }).run();
    db.insert(clusters).values({ name, url: parsed.origin, componentId: key.id, createdAt: clock.now() }).run();
  })();
  return { name, url: parsed.origin, key };
}

export function deregisterCluster({ db, sqlite }: ClcDatabase, name: string): void {
  const row = db.select().from(clusters).where(eq(clusters.name, name)).get();
  if (!row) throw new NotFoundError("cluster", name);
  sqlite.transaction(() => {
    db.delete(clusters).where(eq(clusters.name, name)).run();
    if (row.componentId) db.delete(components).where(eq(components.id, row.componentId)).run();
  })();
}
