import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { walrusMigrations } from "./migrations";
import { walrusSchema, type WalrusSchema } from "./schema";

export type WalrusDatabase = OpenDatabase<WalrusSchema>;

/** Same application id as before Walrus had tables: its first migration is the settings table. */
export function openWalrusDatabase(file: string): WalrusDatabase {
  return openRoleDatabase(file, {
    role: "walrus",
    applicationId: 0x45554334,
    migrations: walrusMigrations,
    schema: walrusSchema,
  });
}
