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
export type InstanceState = "pending" | "running" | "stopping" | "stopped" | "shutting-down" | "terminated";

export const NODE_RECORD_STATES = ["pending", "extant", "teardown"] as const satisfies readonly NodeRecordState[];
export const INSTANCE_STATES = [
  "pending",
  "running",
  "stopping",
  "stopped",
  "shutting-down",
  "terminated",
] as const satisfies readonly InstanceState[];

/** The moves a node's record may make: staged and booted, or torn down (a terminate, a failure, a crash). */
export const NODE_TRANSITIONS: Record<NodeRecordState, readonly NodeRecordState[]> = {
  pending: ["extant", "teardown"],
  extant: ["teardown"],
  teardown: [],
};

/**
 * The moves an EC2 instance may make. Only an instance whose root is an EBS volume stops
 * (its node lets go of it, its volumes and private address stay) and starts again (placed
 * anew, `pending`); a start that fails, or a guest that shuts itself down with the
 * `stop` behaviour, ends `stopped`, never lost.
 */
export const INSTANCE_TRANSITIONS: Record<InstanceState, readonly InstanceState[]> = {
  pending: ["running", "stopping", "stopped", "shutting-down", "terminated"],
  running: ["stopping", "stopped", "shutting-down", "terminated"],
  stopping: ["stopped", "shutting-down", "terminated"],
  stopped: ["pending", "shutting-down", "terminated"],
  "shutting-down": ["terminated"],
  terminated: [],
};

/** EC2's numeric state codes. */
export const INSTANCE_STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

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
export function reportedState(
  record: NodeRecordState,
  staging: boolean,
  domain: DomainState | undefined,
): NodeInstanceState {
  if (record === "teardown") return "Teardown";
  if (staging) return "Pending";
  if (!domain || domain === "crashed") return "Teardown";
  return domain === "running" ? "Extant" : "Pending";
}

/**
 * What a cluster says of one of its instances: the node's report of it; `absent` — its node
 * answered and has no record of it; `unreported` — its node (or its whole cluster) has
 * not answered since the last report, so nothing new is known.
 */
export type InstanceReport = NodeInstanceState | "absent" | "unreported";
export const INSTANCE_REPORTS = [
  "Pending",
  "Extant",
  "Teardown",
  "absent",
  "unreported",
] as const satisfies readonly InstanceReport[];

/**
 * What the CLC does with a report: the state it moves to; `ended` says why an instance
 * ended on its own (then its cluster is told to let go of it, and its addresses and
 * volumes go back only once the cluster confirms); `retryTerminate`: the user's terminate
 * is still to be carried out on the node that runs it.
 */
export interface Reconciled {
  next: InstanceState;
  ended?: string;
  retryTerminate?: true;
  /** The user's stop is still to be carried out on the node that runs it. */
  retryStop?: true;
}

const keep = (next: InstanceState): Reconciled => ({ next });
const LOST =
  "Server.InternalError: its node no longer runs it (the guest stopped while its node was away, or the node restarted without it)";

/**
 * One table for every (recorded state, report) pair. Silence never ends an instance: the
 * node's report wins for what it runs (a guest it still runs stays running, one it lost is
 * terminated with a reason), the CLC's intent wins for what should not exist (a guest the
 * user terminated is destroyed when its node is heard again).
 */
export const RECONCILE: Record<Exclude<InstanceState, "terminated" | "stopped">, Record<InstanceReport, Reconciled>> = {
  pending: {
    Pending: keep("pending"),
    Extant: keep("running"),
    Teardown: { next: "terminated", ended: "Server.InternalError: the instance failed to start" },
    absent: keep("pending"), // the launch is on its way (a restart reconciles one cut short)
    unreported: keep("pending"),
  },
  running: {
    Pending: keep("running"), // a reboot under way
    Extant: keep("running"),
    Teardown: { next: "terminated", ended: "Server.InternalError: the instance stopped on its node" },
    absent: { next: "terminated", ended: LOST },
    unreported: keep("running"),
  },
  // The node lets go of a stopping guest: its report of it gone (or torn down) is the stop done.
  stopping: {
    Pending: { next: "stopping", retryStop: true },
    Extant: { next: "stopping", retryStop: true },
    Teardown: keep("stopped"),
    absent: keep("stopped"),
    unreported: keep("stopping"),
  },
  "shutting-down": {
    Pending: { next: "shutting-down", retryTerminate: true },
    Extant: { next: "shutting-down", retryTerminate: true },
    Teardown: { next: "shutting-down", retryTerminate: true }, // its cluster still holds it: let go there first
    absent: { next: "shutting-down", retryTerminate: true },
    unreported: keep("shutting-down"),
  },
};

/** The outcome of a report for an instance in `current` (a terminated or stopped instance stays so: no node holds it). */
export function reconcile(current: InstanceState, report: InstanceReport, nodeReason?: string): Reconciled {
  if (current === "terminated" || current === "stopped") return keep(current);
  const r = RECONCILE[current][report];
  return r.ended && nodeReason && report === "Teardown" ? { ...r, ended: `Server.InternalError: ${nodeReason}` } : r;
}
