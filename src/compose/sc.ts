/** The storage controller: its database for now (volumes and snapshots come with EBS). */
import { recordStart } from "../db/role-meta";
import { openSimpleRoleDatabase } from "../db/simple-role-db";
import type { Assembly } from "./assembly";

export function assembleStorage(a: Assembly): void {
  const db = openSimpleRoleDatabase("sc", a.layout.database("sc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
}
