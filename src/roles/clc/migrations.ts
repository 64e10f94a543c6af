import type { Migration } from "../../db/open";
import { ROLE_FACTS_SQL } from "../../db/role-facts-table";

/** Append only: a shipped migration is never edited. Kept in step with ./schema.ts (test/db/schemas.test.ts). */
export const clcMigrations: readonly Migration[] = [
  {
    name: "settings, identity, vm types, clusters, component keys",
    sql: `${ROLE_FACTS_SQL}
CREATE TABLE accounts (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL UNIQUE,
  is_admin INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE TABLE access_keys (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  secret TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'Active',
  created_at INTEGER NOT NULL
);
CREATE INDEX access_keys_user ON access_keys(user_id);
CREATE TABLE certificates (
  fingerprint TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  pem TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX certificates_user ON certificates(user_id);
CREATE TABLE vm_types (
  name TEXT PRIMARY KEY NOT NULL,
  cpus INTEGER NOT NULL,
  memory_mb INTEGER NOT NULL,
  disk_gb INTEGER NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE clusters (
  name TEXT PRIMARY KEY NOT NULL,
  url TEXT,
  component_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE components (
  id TEXT PRIMARY KEY NOT NULL,
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`,
  },
  {
    name: "key pairs, security groups and their ingress rules",
    sql: `
CREATE TABLE key_pairs (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL,
  name TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  key_type TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX key_pairs_account_name ON key_pairs(account_id, name);
CREATE TABLE security_groups (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX security_groups_account_name ON security_groups(account_id, name);
CREATE TABLE security_group_rules (
  group_id TEXT NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  from_port INTEGER NOT NULL,
  to_port INTEGER NOT NULL,
  cidr TEXT NOT NULL DEFAULT '',
  source_group_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (group_id, protocol, from_port, to_port, cidr, source_group_id)
);
`,
  },
  {
    name: "images and launch permissions",
    sql: `
CREATE TABLE images (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL,
  location TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  architecture TEXT NOT NULL,
  type TEXT NOT NULL,
  kernel_id TEXT,
  ramdisk_id TEXT,
  state TEXT NOT NULL,
  size INTEGER NOT NULL,
  product_codes TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX images_account ON images(account_id);
CREATE TABLE image_launch_permissions (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  grantee TEXT NOT NULL,
  PRIMARY KEY (image_id, grantee)
);
`,
  },
  {
    name: "tags",
    sql: `
CREATE TABLE tags (
  resource_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (resource_id, key)
);
CREATE INDEX tags_account ON tags(account_id);
`,
  },
  {
    name: "instances",
    sql: `
CREATE TABLE instances (
  id TEXT PRIMARY KEY NOT NULL,
  reservation_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  image_id TEXT NOT NULL,
  kernel_id TEXT,
  ramdisk_id TEXT,
  instance_type TEXT NOT NULL,
  key_name TEXT,
  groups TEXT NOT NULL,
  user_data TEXT,
  state TEXT NOT NULL,
  state_reason TEXT NOT NULL DEFAULT '',
  launch_index INTEGER NOT NULL,
  zone TEXT NOT NULL,
  private_ip TEXT NOT NULL,
  mac TEXT NOT NULL,
  client_token TEXT,
  launch_time INTEGER NOT NULL,
  terminated_at INTEGER
);
CREATE INDEX instances_account ON instances(account_id);
CREATE INDEX instances_token ON instances(account_id, client_token);
`,
  },
  {
    name: "public addresses",
    sql: `
CREATE TABLE addresses (
  public_ip TEXT PRIMARY KEY NOT NULL,
  account_id TEXT,
  allocation_id TEXT,
  instance_id TEXT,
  association_id TEXT,
  system INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX addresses_instance ON addresses(instance_id);
`,
  },
  {
    name: "client token request digests",
    sql: `
ALTER TABLE instances ADD COLUMN request_digest TEXT;
`,
  },
  {
    name: "what runs each instance",
    sql: `
ALTER TABLE instances ADD COLUMN hypervisor TEXT;
`,
  },
  {
    name: "session credentials (STS GetSessionToken)",
    sql: `
CREATE TABLE session_credentials (
  access_key_id TEXT PRIMARY KEY NOT NULL,
  parent_key_id TEXT NOT NULL REFERENCES access_keys(id) ON DELETE CASCADE,
  secret TEXT NOT NULL,
  token_sha256 TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX session_credentials_parent ON session_credentials(parent_key_id);
`,
  },
  {
    name: "ids compared without regard to case",
    sql: `
CREATE INDEX instances_id_lower ON instances(lower(id));
CREATE INDEX images_id_lower ON images(lower(id));
CREATE INDEX key_pairs_id_lower ON key_pairs(lower(id));
CREATE INDEX security_groups_id_lower ON security_groups(lower(id));
CREATE INDEX tags_resource_lower ON tags(lower(resource_id));
`,
  },
  {
    name: "whether an instance was launched with a public address",
    sql: `
ALTER TABLE instances ADD COLUMN public_addressing INTEGER NOT NULL DEFAULT 1;
`,
  },
  {
    name: "EBS volumes and their attachments",
    sql: `
CREATE TABLE volumes (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL,
  zone TEXT NOT NULL,
  size_gib INTEGER NOT NULL,
  snapshot_id TEXT,
  volume_type TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  instance_id TEXT,
  device TEXT,
  attach_state TEXT,
  attached_at INTEGER,
  delete_on_termination INTEGER NOT NULL DEFAULT 0,
  deleted_at INTEGER
);
CREATE INDEX volumes_account ON volumes(account_id);
CREATE INDEX volumes_instance ON volumes(instance_id);
CREATE INDEX volumes_id_lower ON volumes(lower(id));
`,
  },
  {
    name: "EBS snapshots and who may restore them",
    sql: `
CREATE TABLE snapshots (
  id TEXT PRIMARY KEY NOT NULL,
  account_id TEXT NOT NULL,
  volume_id TEXT NOT NULL,
  zone TEXT NOT NULL,
  size_gib INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL
);
CREATE INDEX snapshots_account ON snapshots(account_id);
CREATE INDEX snapshots_id_lower ON snapshots(lower(id));
CREATE TABLE snapshot_permissions (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  grantee TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, grantee)
);
`,
  },
  {
    name: "web interface: passwords and profiles, account applications, sessions, password resets, audit log, outbox",
    sql: `
CREATE TABLE user_profiles (
  user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  full_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  extras TEXT NOT NULL DEFAULT '{}',
  password_hash TEXT,
  must_change INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER
);
CREATE TABLE account_applications (
  id TEXT PRIMARY KEY NOT NULL,
  user_name TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  email TEXT NOT NULL,
  extras TEXT NOT NULL DEFAULT '{}',
  password_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  code_sha256 TEXT,
  created_at INTEGER NOT NULL,
  decided_at INTEGER,
  decided_by TEXT
);
CREATE TABLE web_sessions (
  id_sha256 TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);
CREATE TABLE password_resets (
  code_sha256 TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  sent INTEGER NOT NULL DEFAULT 0
);
`,
  },
  {
    // Until now an account's admin was inferred from "user name equals account name", so a
    // user named after an existing account became its admin. The flag goes to the user
    // each account was made for (its first user, named after it; admin for 'eucalyptus')
    // and to nobody else.
    name: "account owners recorded explicitly; audit log by time; addresses users logged in from",
    sql: `
ALTER TABLE users ADD COLUMN is_account_owner INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_account_owner = 1 WHERE id IN (
  SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id
  WHERE a.name <> 'eucalyptus' AND u.name = a.name
    AND NOT EXISTS (SELECT 1 FROM users o WHERE o.account_id = u.account_id AND (o.created_at < u.created_at OR (o.created_at = u.created_at AND o.id < u.id)))
);
UPDATE users SET is_account_owner = 1 WHERE name = 'admin' AND account_id = (SELECT id FROM accounts WHERE name = 'eucalyptus');
CREATE UNIQUE INDEX users_account_owner ON users(account_id) WHERE is_account_owner = 1;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE login_addresses (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  last_login INTEGER NOT NULL,
  PRIMARY KEY (user_id, address)
);
`,
  },
  {
    name: "instances unreported since; intents kept until done",
    sql: `
ALTER TABLE instances ADD COLUMN unreported_since INTEGER;
CREATE TABLE intents (
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  zone TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  next_at INTEGER NOT NULL,
  PRIMARY KEY (kind, target)
);
`,
  },
  {
    name: "join tokens and host certificates",
    sql: `
CREATE TABLE join_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  secret_sha256 TEXT NOT NULL,
  kind TEXT NOT NULL,
  cluster TEXT NOT NULL,
  node TEXT,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE host_certificates (
  serial TEXT PRIMARY KEY NOT NULL,
  identities TEXT NOT NULL,
  address TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  revoked_at INTEGER
);
`,
  },
  {
    name: "EBS-backed images and instances: root device, block device mappings, instance attributes",
    sql: `
ALTER TABLE images ADD COLUMN root_device_type TEXT NOT NULL DEFAULT 'instance-store';
ALTER TABLE images ADD COLUMN root_device_name TEXT;
ALTER TABLE images ADD COLUMN block_device_mappings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE images ADD COLUMN virtualization_type TEXT NOT NULL DEFAULT 'paravirtual';
ALTER TABLE images ADD COLUMN boot_mode TEXT;
ALTER TABLE images ADD COLUMN image_state TEXT NOT NULL DEFAULT 'available';
ALTER TABLE instances ADD COLUMN root_device_type TEXT NOT NULL DEFAULT 'instance-store';
ALTER TABLE instances ADD COLUMN root_device_name TEXT;
ALTER TABLE instances ADD COLUMN ephemeral_devices TEXT NOT NULL DEFAULT '[]';
ALTER TABLE instances ADD COLUMN disable_api_termination INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN shutdown_behavior TEXT NOT NULL DEFAULT 'terminate';
ALTER TABLE instances ADD COLUMN transition_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN source_snapshot_id TEXT;
`,
  },
];
