/**
 * Resource ids in requests match whatever case they were stored in: new ids are
 * lower-case (as AWS writes them), ids made by earlier versions upper-case, and either
 * may come back from a script in the other. Queries compare `lower(id)` (with an
 * expression index); the stored id is what flows on to clusters and nodes.
 */
import { inArray, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

export const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function idIs(column: SQLiteColumn, id: string): SQL {
  return sql`lower(${column}) = ${id.toLowerCase()}`;
}

export function idIn(column: SQLiteColumn, ids: readonly string[]): SQL {
  return inArray(
    sql`lower(${column})`,
    ids.map((i) => i.toLowerCase()),
  );
}
