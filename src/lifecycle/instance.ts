/**
 * The instance's lifecycle, in the one place its vocabularies meet: what the
 * hypervisor reports of a domain, what a node records and reports up (Eucalyptus'
 * Pending / Extant / Teardown), and what EC2 users see. The transition tables say
 * which moves exist; the mappings turn one machine's state into the next one's.
 * Volumes and their attachments have theirs beside it (./volume.ts).
 */

/** A domain as its hypervisor reports it. */
export type DomainState = "pending" | "running" | "crashed";
/** An instance as its node records it (nc.db). */
export type NodeRecordState = "pending" | "extant" | "teardown";
/** An instance as its node reports it up (the CC and the CLC read these). */
export type NodeInstanceState = "Pending" | "Extant" | "Teardown";
/** An instance as EC2 users see it. */
export type InstanceState = "pending" | "running" | "shutting-down" | "terminated";

export const NODE_RECORD_STATES = ["pending", "extant", "teardown"] as const satisfies readonly NodeRecordState[];
export const INSTANCE_STATES = ["pending", "running", "shutting-down", "terminated"] as const satisfies readonly InstanceState[];

/** The moves a node's record may make: staged and booted, or torn down (a terminate, a failure, a crash). */
export const NODE_TRANSITIONS: Record<NodeRecordState, readonly NodeRecordState[]> = {
  pending: ["extant", "teardown"],
  extant: ["teardown"],
  teardown: [],
};

/** The moves an EC2 instance may make. */
export const INSTANCE_TRANSITIONS: Record<InstanceState, readonly InstanceState[]> = {
  pending: ["running", "shutting-down", "terminated"],
  running: ["shutting-down", "terminated"],
  "shutting-down": ["terminated"],
  terminated: [],
};

/** EC2's numeric state codes. */
export const INSTANCE_STATE_CODES: Record<InstanceState, number> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48 };

export function canMove<S extends string>(table: Record<S, readonly S[]>, from: S, to: S): boolean {
  return from === to || table[from].includes(to);
}

/** The states a record may be in for a move to `to` (writers put this in their WHERE, so a stale move cannot undo a later one). */
export function statesBefore<S extends string>(table: Record<S, readonly S[]>, to: S): S[] {
  return (Object.keys(table) as S[]).filter((from) => canMove(table, from, to));
}

/**
 * What a node reports for one of its records: a torn-down record is Teardown; a
 * record whose staging is under way is Pending; otherwise the domain decides (none,
 * or crashed: Teardown; booting: Pending; running: Extant).
 */
export function reportedState(record: NodeRecordState, staging: boolean, domain: DomainState | undefined): NodeInstanceState {
  if (record === "teardown") return "Teardown";
  if (staging) return "Pending";
  if (!domain || domain === "crashed") return "Teardown";
  return domain === "running" ? "Extant" : "Pending";
}

/**
 * The EC2 state that follows a node's report. No report at all means the node no
 * longer knows the instance: still pending if it was (the launch is on its way),
 * else terminated.
 */
export function instanceStateFrom(report: NodeInstanceState | undefined, current: InstanceState): InstanceState {
  if (!report) return current === "pending" ? "pending" : "terminated";
  switch (report) {
    case "Pending": return "pending";
    case "Extant": return "running";
    case "Teardown": return "terminated";
  }
}
