/** Drizzle schema of the CLC database (clc.db). Migrations: ./migrations.ts. */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { roleFacts } from "../../db/role-facts-table";
import { ATTACHMENT_STATES, VOLUME_STATES } from "../../lifecycle/volume";
import { INSTANCE_STATES } from "../../lifecycle/instance";
import {
  accountApplications,
  auditLog,
  loginAddresses,
  outbox,
  passwordResets,
  userProfiles,
  webSessions,
} from "./schema-web";

export * from "./schema-web";
export * from "./schema-identity";
import { accounts, users, accessKeys, sessionCredentials, certificates } from "./schema-identity";

export const vmTypes = sqliteTable("vm_types", {
  name: text("name").primaryKey(),
  cpus: integer("cpus").notNull(),
  memoryMb: integer("memory_mb").notNull(),
  diskGb: integer("disk_gb").notNull(),
  position: integer("position").notNull(),
});

/** Clusters (availability zones). `url` is null for the cluster running in this process. */
export const clusters = sqliteTable("clusters", {
  name: text("name").primaryKey(),
  url: text("url"),
  componentId: text("component_id"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Keys issued to remote components when they register (signed role-to-role calls). */
export const components = sqliteTable("components", {
  id: text("id").primaryKey(),
  role: text("role").notNull(),
  name: text("name").notNull(),
  secret: text("secret").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

export const keyPairs = sqliteTable(
  "key_pairs",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    name: text("name").notNull(),
    fingerprint: text("fingerprint").notNull(),
    keyType: text("key_type", { enum: ["rsa", "ed25519"] }).notNull(),
    publicKey: text("public_key").notNull(), // OpenSSH format, for injection into instances
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("key_pairs_account_name").on(t.accountId, t.name)],
);

export const securityGroups = sqliteTable(
  "security_groups",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("security_groups_account_name").on(t.accountId, t.name)],
);

/** Ingress rules; a rule allows a CIDR or a source group (empty string for the other). */
export const securityGroupRules = sqliteTable(
  "security_group_rules",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => securityGroups.id, { onDelete: "cascade" }),
    protocol: text("protocol").notNull(), // "tcp" | "udp" | "icmp" | "-1" | protocol number
    fromPort: integer("from_port").notNull(),
    toPort: integer("to_port").notNull(),
    cidr: text("cidr").notNull().default(""),
    sourceGroupId: text("source_group_id").notNull().default(""),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.protocol, t.fromPort, t.toPort, t.cidr, t.sourceGroupId] })],
);

export const images = sqliteTable("images", {
  id: text("id").primaryKey(), // emi-/eki-/eri-
  accountId: text("account_id").notNull(),
  location: text("location").notNull(), // bucket/key of the manifest
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  architecture: text("architecture").notNull(),
  type: text("type", { enum: ["machine", "kernel", "ramdisk"] }).notNull(),
  kernelId: text("kernel_id"),
  ramdiskId: text("ramdisk_id"),
  state: text("state", { enum: ["available", "deregistered"] }).notNull(),
  size: integer("size").notNull(),
  productCodes: text("product_codes").notNull().default(""),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  /** "ebs": the root is a volume made from a snapshot of `blockDeviceMappings` (location is then ""). */
  rootDeviceType: text("root_device_type", { enum: ["instance-store", "ebs"] })
    .notNull()
    .default("instance-store"),
  /** e.g. "/dev/sda1" (EC2's name, shown as registered). */
  rootDeviceName: text("root_device_name"),
  /** JSON BlockDeviceMapping[] (roles/clc/compute/block-devices.ts). */
  blockDeviceMappings: text("block_device_mappings").notNull().default("[]"),
  virtualizationType: text("virtualization_type", { enum: ["paravirtual", "hvm"] })
    .notNull()
    .default("paravirtual"),
  bootMode: text("boot_mode"),
  /** CreateImage's: `pending` until its snapshots are completed, `failed` when one is not. */
  imageState: text("image_state", { enum: ["pending", "available", "failed"] })
    .notNull()
    .default("available"),
});

/** Who may launch an image besides its owner: an account id, or "all". */
export const imageLaunchPermissions = sqliteTable(
  "image_launch_permissions",
  {
    imageId: text("image_id")
      .notNull()
      .references(() => images.id, { onDelete: "cascade" }),
    grantee: text("grantee").notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.grantee] })],
);

export const instances = sqliteTable(
  "instances",
  {
    id: text("id").primaryKey(),
    reservationId: text("reservation_id").notNull(),
    accountId: text("account_id").notNull(),
    imageId: text("image_id").notNull(),
    kernelId: text("kernel_id"),
    ramdiskId: text("ramdisk_id"),
    instanceType: text("instance_type").notNull(),
    keyName: text("key_name"),
    groups: text("groups").notNull(), // JSON [{id, name}]
    userData: text("user_data"), // base64
    state: text("state", { enum: INSTANCE_STATES }).notNull(),
    stateReason: text("state_reason").notNull().default(""),
    launchIndex: integer("launch_index").notNull(),
    zone: text("zone").notNull(),
    privateIp: text("private_ip").notNull(),
    mac: text("mac").notNull(),
    clientToken: text("client_token"),
    /** SHA-256 of the RunInstances parameters sent with the client token (IdempotentParameterMismatch). */
    requestDigest: text("request_digest"),
    /** What runs it, as its node reported (xen, kvm, qemu, fake); null before it is placed. */
    hypervisor: text("hypervisor"),
    /** Launched with a public address (not AddressingType=private): it gets a new one when an elastic one leaves it, as in Eucalyptus. */
    publicAddressing: integer("public_addressing", { mode: "boolean" }).notNull().default(true),
    launchTime: integer("launch_time", { mode: "timestamp_ms" }).notNull(),
    terminatedAt: integer("terminated_at", { mode: "timestamp_ms" }),
    /** Since when its node (or cluster) has not reported it; null while reported. Impaired after INSTANCE_REACHABILITY_SECONDS. */
    unreportedSince: integer("unreported_since", { mode: "timestamp_ms" }),
    /** "ebs": its root is the volume attached at `rootDeviceName`; it can be stopped and started. */
    rootDeviceType: text("root_device_type", { enum: ["instance-store", "ebs"] })
      .notNull()
      .default("instance-store"),
    rootDeviceName: text("root_device_name"),
    /** JSON [{ deviceName, virtualName }]: the instance-store disks mapped at launch (made anew at each start). */
    ephemeralDevices: text("ephemeral_devices").notNull().default("[]"),
    /** ModifyInstanceAttribute's: TerminateInstances refused while set. */
    disableApiTermination: integer("disable_api_termination", { mode: "boolean" }).notNull().default(false),
    /** What the guest's own shutdown does: "stop" (EBS-backed only) or "terminate". */
    shutdownBehavior: text("shutdown_behavior", { enum: ["stop", "terminate"] })
      .notNull()
      .default("terminate"),
    /** EC2's StateTransitionReason ("User initiated (2026-12-07 10:00:00 GMT)"). */
    transitionReason: text("transition_reason").notNull().default(""),
  },
  (t) => [index("instances_account").on(t.accountId), index("instances_token").on(t.accountId, t.clientToken)],
);

/** The public address pool: allocated to an account (elastic) or to an instance (at launch). */
export const addresses = sqliteTable("addresses", {
  publicIp: text("public_ip").primaryKey(),
  accountId: text("account_id"), // owner of an elastic address; null when in the pool or system-assigned
  allocationId: text("allocation_id"),
  instanceId: text("instance_id"),
  associationId: text("association_id"),
  system: integer("system", { mode: "boolean" }).notNull().default(false), // assigned at launch, returned at terminate
});

/** EBS volumes as EC2 users see them, and their one attachment (the node's report is its truth). */
export const volumes = sqliteTable(
  "volumes",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    zone: text("zone").notNull(),
    sizeGiB: integer("size_gib").notNull(),
    snapshotId: text("snapshot_id"),
    volumeType: text("volume_type").notNull(),
    state: text("state", { enum: VOLUME_STATES }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    instanceId: text("instance_id"),
    device: text("device"),
    attachState: text("attach_state", { enum: ATTACHMENT_STATES }),
    attachedAt: integer("attached_at", { mode: "timestamp_ms" }),
    deleteOnTermination: integer("delete_on_termination", { mode: "boolean" }).notNull().default(false),
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("volumes_account").on(t.accountId), index("volumes_instance").on(t.instanceId)],
);

/** EBS snapshots as EC2 users see them; the zone whose SC took (and holds the chunks of) each. */
export const snapshots = sqliteTable(
  "snapshots",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    volumeId: text("volume_id").notNull(),
    zone: text("zone").notNull(),
    sizeGiB: integer("size_gib").notNull(),
    description: text("description").notNull().default(""),
    state: text("state", { enum: ["pending", "completed", "error"] }).notNull(),
    progress: integer("progress").notNull().default(0),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    /** CopySnapshot's source (its chunks are shared, not copied). */
    sourceSnapshotId: text("source_snapshot_id"),
  },
  (t) => [index("snapshots_account").on(t.accountId)],
);

/** Who may make volumes from a snapshot besides its owner: account ids, or "all". */
export const snapshotPermissions = sqliteTable(
  "snapshot_permissions",
  {
    snapshotId: text("snapshot_id")
      .notNull()
      .references(() => snapshots.id, { onDelete: "cascade" }),
    grantee: text("grantee").notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.grantee] })],
);

/** Tags on any resource, by its id (owner account kept for per-account listings). */
export const tags = sqliteTable(
  "tags",
  {
    resourceId: text("resource_id").notNull(),
    accountId: text("account_id").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.resourceId, t.key] })],
);

/**
 * What the CLC asked a cluster to do and is not yet done because the cluster or the node
 * did not answer: kept across restarts and retried until done, never dropped. `target` is
 * an instance id (terminate) or a volume id (detach, whose payload names the instance).
 */
export const intents = sqliteTable(
  "intents",
  {
    kind: text("kind", { enum: ["terminate", "detach", "stop"] }).notNull(),
    target: text("target").notNull(),
    zone: text("zone").notNull(),
    payload: text("payload").notNull().default("{}"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error").notNull().default(""),
    nextAt: integer("next_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.target] })],
);

/** One-time join tokens (`euca admin cluster add` / `node add`): the secret's SHA-256 only. */
export const joinTokens = sqliteTable("join_tokens", {
  id: text("id").primaryKey(),
  secretSha256: text("secret_sha256").notNull(),
  kind: text("kind", { enum: ["cluster", "node"] }).notNull(),
  cluster: text("cluster").notNull(),
  node: text("node"),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  usedAt: integer("used_at", { mode: "timestamp_ms" }),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Host certificates the cloud CA issued (at joins, and the head's own); revoked ones are in the revocation list. */
export const hostCertificates = sqliteTable("host_certificates", {
  serial: text("serial").primaryKey(),
  /** The euca:// identities it names, space-separated. */
  identities: text("identities").notNull(),
  address: text("address").notNull(),
  issuedAt: integer("issued_at", { mode: "timestamp_ms" }).notNull(),
  notAfter: integer("not_after", { mode: "timestamp_ms" }).notNull(),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
});

export const clcSchema = {
  joinTokens,
  hostCertificates,
  roleFacts,
  accounts,
  users,
  accessKeys,
  sessionCredentials,
  certificates,
  vmTypes,
  clusters,
  components,
  keyPairs,
  securityGroups,
  securityGroupRules,
  images,
  imageLaunchPermissions,
  tags,
  instances,
  addresses,
  volumes,
  snapshots,
  snapshotPermissions,
  userProfiles,
  accountApplications,
  webSessions,
  passwordResets,
  loginAddresses,
  auditLog,
  outbox,
  intents,
};
export type ClcSchema = typeof clcSchema;
