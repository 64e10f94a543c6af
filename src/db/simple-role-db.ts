import { openRoleDatabase, type OpenDatabase } from "./open";
import { settings, SETTINGS_SQL } from "./settings-table";

/**
 * The databases of roles whose own tables arrive with later work (SC volumes) start
 * with the settings table; their migrations append to these lists.
 */
export const simpleRoleSchema = { settings };
export type SimpleRoleDatabase = OpenDatabase<typeof simpleRoleSchema>;

const APPLICATION_IDS = { sc: 0x45554335 } as const;

export const simpleRoleMigrations = {
  sc: [{ name: "settings", sql: SETTINGS_SQL }],
} as const;

export function openSimpleRoleDatabase(role: keyof typeof APPLICATION_IDS, file: string): SimpleRoleDatabase {
  return openRoleDatabase(file, { role, applicationId: APPLICATION_IDS[role], migrations: simpleRoleMigrations[role], schema: simpleRoleSchema });
}
