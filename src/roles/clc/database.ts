import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { clcMigrations } from "./migrations";
import { clcSchema, type ClcSchema } from "./schema";

export const CLC_APPLICATION_ID = 0x45554331; // "EUC1"
export type ClcDatabase = OpenDatabase<ClcSchema>;

export function openClcDatabase(file: string): ClcDatabase {
  return openRoleDatabase(file, {
    role: "clc",
    applicationId: CLC_APPLICATION_ID,
    migrations: clcMigrations,
    schema: clcSchema,
  });
}
