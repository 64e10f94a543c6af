import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { roleFacts, ROLE_FACTS_SQL } from "../../db/role-facts-table";
import { NODE_HEALTH_STATES } from "../../lifecycle/node-health";

/** Node controllers registered with this cluster that run in other processes. */
export const nodes = sqliteTable("nodes", {
  name: text("name").primaryKey(),
  url: text("url").notNull(),
  componentId: text("component_id").notNull(),
  secret: text("secret").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Which node runs which instance (the CC routes every later call by it), with what its
 * network is made from: its security groups and public address. Each change raises
 * `networkGen`; `syncedGen` is the generation its node has taken (pushed until it has).
 */
export const placements = sqliteTable("placements", {
  instanceId: text("instance_id").primaryKey(),
  node: text("node").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  groupIds: text("group_ids").notNull().default("[]"),
  publicIp: text("public_ip"),
  networkGen: integer("network_gen").notNull().default(0),
  syncedGen: integer("synced_gen").notNull().default(0),
  /** While it is live-migrated: the node it is moving to (which gets its port on the network too). */
  migratingTo: text("migrating_to"),
});

/** The ingress rules of the security groups whose instances run here, as the CLC last sent them. */
export const groupRules = sqliteTable("group_rules", {
  groupId: text("group_id").primaryKey(),
  rules: text("rules").notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

/** A security group's private network (Eucalyptus MANAGED mode: one subnet and VLAN per group). */
export const networks = sqliteTable(
  "networks",
  {
    accountId: text("account_id").notNull(),
    groupName: text("group_name").notNull(),
    netIndex: integer("net_index").notNull().unique(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.groupName] })],
);

/**
 * An instance's private address and MAC: in its group's network (MANAGED*, ROOTLESS),
 * a VNET_MACMAP pair (STATIC), or its MAC alone until the site's DHCP is seen to address
 * it (SYSTEM: the address is null until then). SYSTEM and STATIC leases are network 0.
 */
export const leases = sqliteTable("leases", {
  instanceId: text("instance_id").primaryKey(),
  netIndex: integer("net_index").notNull(),
  privateIp: text("private_ip").unique(),
  mac: text("mac").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  /** Held for a stopped instance (no placement): kept until it starts again or is terminated. */
  keptSince: integer("kept_since", { mode: "timestamp_ms" }),
});

/** Nodes POWERSAVE has put to sleep, with what they offer when woken (their last report). */
export const sleepingNodes = sqliteTable("sleeping_nodes", {
  node: text("node").primaryKey(),
  resource: text("resource").notNull(),
  since: integer("since", { mode: "timestamp_ms" }).notNull(),
});

/** MANAGED modes: what each node last took of the cluster's network (for `euca admin network`). */
export const nodeNetworks = sqliteTable("node_networks", {
  node: text("node").primaryKey(),
  digest: text("digest").notNull(),
  guests: integer("guests").notNull(),
  appliedAt: integer("applied_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Each node's health (lifecycle/node-health.ts) and its last report, kept so that a CC
 * restarted while a node is silent still knows what that node was running.
 */
export const nodeHealth = sqliteTable("node_health", {
  node: text("node").primaryKey(),
  state: text("state", { enum: NODE_HEALTH_STATES }).notNull(),
  since: integer("since", { mode: "timestamp_ms" }).notNull(),
  lastContact: integer("last_contact", { mode: "timestamp_ms" }),
  /** JSON NodeInstance[] of its last answer. */
  instances: text("instances").notNull().default("[]"),
  /** JSON NodeResource of its last answer (what it offered then), for the admin's listing. */
  resource: text("resource"),
});

/** Guests a node runs that no placement here accounts for, since when (destroyed after UNKNOWN_INSTANCE_SECONDS). */
export const unknownGuests = sqliteTable("unknown_guests", {
  instanceId: text("instance_id").primaryKey(),
  node: text("node").notNull(),
  firstSeen: integer("first_seen", { mode: "timestamp_ms" }).notNull(),
});

/**
 * What the admin asked of a node through `euca admin node …` on the CC's host, for the
 * running CC to carry out on its next poll (the command waits for `doneAt`).
 */
export const nodeRequests = sqliteTable("node_requests", {
  node: text("node").primaryKey(),
  action: text("action", { enum: ["evacuate", "drain", "undrain"] }).notNull(),
  requestedAt: integer("requested_at", { mode: "timestamp_ms" }).notNull(),
  doneAt: integer("done_at", { mode: "timestamp_ms" }),
  /** JSON: what it did (the instances given up), or why it could not. */
  result: text("result"),
});

/** Nodes the admin drained: nothing new is placed there (`euca admin node undrain` ends it). */
export const drainedNodes = sqliteTable("drained_nodes", {
  node: text("node").primaryKey(),
  since: integer("since", { mode: "timestamp_ms" }).notNull(),
});

export const ccSchema = {
  roleFacts,
  nodes,
  placements,
  networks,
  leases,
  sleepingNodes,
  groupRules,
  nodeNetworks,
  nodeHealth,
  unknownGuests,
  nodeRequests,
  drainedNodes,
};
export type CcDatabase = OpenDatabase<typeof ccSchema>;

export const ccMigrations = [
  {
    name: "settings and registered nodes",
    sql: `${ROLE_FACTS_SQL}
CREATE TABLE nodes (
  name TEXT PRIMARY KEY NOT NULL,
  url TEXT NOT NULL,
  component_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`,
  },
  {
    name: "placements",
    sql: `CREATE TABLE placements (
  instance_id TEXT PRIMARY KEY NOT NULL,
  node TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`,
  },
  {
    name: "group networks and address leases",
    sql: `CREATE TABLE networks (
  account_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  net_index INTEGER NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, group_name)
);
CREATE TABLE leases (
  instance_id TEXT PRIMARY KEY NOT NULL,
  net_index INTEGER NOT NULL,
  private_ip TEXT NOT NULL UNIQUE,
  mac TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`,
  },
  {
    name: "sleeping nodes",
    sql: `CREATE TABLE sleeping_nodes (
  node TEXT PRIMARY KEY NOT NULL,
  resource TEXT NOT NULL,
  since INTEGER NOT NULL
);`,
  },
  {
    name: "instance networks from security groups and public addresses",
    sql: `ALTER TABLE placements ADD COLUMN group_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE placements ADD COLUMN public_ip TEXT;
ALTER TABLE placements ADD COLUMN network_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN synced_gen INTEGER NOT NULL DEFAULT 0;
CREATE TABLE group_rules (
  group_id TEXT PRIMARY KEY NOT NULL,
  rules TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);`,
  },
  {
    name: "what each node took of the managed network",
    sql: `CREATE TABLE node_networks (
  node TEXT PRIMARY KEY NOT NULL,
  digest TEXT NOT NULL,
  guests INTEGER NOT NULL,
  applied_at INTEGER NOT NULL
);`,
  },
  {
    name: "leases whose address is learned later (SYSTEM)",
    sql: `CREATE TABLE leases_new (
  instance_id TEXT PRIMARY KEY NOT NULL,
  net_index INTEGER NOT NULL,
  private_ip TEXT UNIQUE,
  mac TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO leases_new SELECT instance_id, net_index, private_ip, mac, created_at FROM leases;
DROP TABLE leases;
ALTER TABLE leases_new RENAME TO leases;`,
  },
  {
    name: "node health, last reports, unknown guests, the admin's node requests, drains and migrations",
    sql: `CREATE TABLE node_health (
  node TEXT PRIMARY KEY NOT NULL,
  state TEXT NOT NULL,
  since INTEGER NOT NULL,
  last_contact INTEGER,
  instances TEXT NOT NULL DEFAULT '[]',
  resource TEXT
);
CREATE TABLE unknown_guests (
  instance_id TEXT PRIMARY KEY NOT NULL,
  node TEXT NOT NULL,
  first_seen INTEGER NOT NULL
);
CREATE TABLE node_requests (
  node TEXT PRIMARY KEY NOT NULL,
  action TEXT NOT NULL,
  requested_at INTEGER NOT NULL,
  done_at INTEGER,
  result TEXT
);
CREATE TABLE drained_nodes (
  node TEXT PRIMARY KEY NOT NULL,
  since INTEGER NOT NULL
);
ALTER TABLE placements ADD COLUMN migrating_to TEXT;`,
  },
  {
    name: "leases kept for stopped instances",
    sql: `ALTER TABLE leases ADD COLUMN kept_since INTEGER;`,
  },
] as const;

export function openCcDatabase(file: string): CcDatabase {
  return openRoleDatabase(file, { role: "cc", applicationId: 0x45554332, migrations: ccMigrations, schema: ccSchema });
}
