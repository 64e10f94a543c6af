/**
 * How wrong passwords slow a web login down. A hard lock after N wrong passwords lets
 * anyone shut any user out, the admin included, with N requests; instead the first
 * `freeAttempts` are free and each further one pauses the name's logins for twice as
 * long as the last (1 s, 2 s, 4 s, …, at most `maxPauseMs`). A correct password from an
 * address this user logged in from before goes through a pause (the owner is not
 * locked out by someone else's guesses); wrong ones from there still count.
 *
 * Known users keep their count in the database (the admin sees and clears it); names
 * that are no user's count the same way here, in a bounded map, so a pause tells
 * nothing about whether a name exists.
 */

export interface ThrottlePolicy {
  freeAttempts: number;
  maxPauseMs: number;
}

export interface ThrottleState {
  failures: number;
  pausedUntil: Date | null;
}

const FIRST_PAUSE_MS = 1000;

/** How long logins pause after the `failures`-th wrong password in a row. */
export function pauseAfter(failures: number, p: ThrottlePolicy): number {
  const over = failures - p.freeAttempts;
  if (over < 0) return 0;
  return Math.min(p.maxPauseMs, FIRST_PAUSE_MS * 2 ** Math.min(over, 30));
}

/** The state after one more wrong password at `now`. */
export function afterFailure(s: ThrottleState, now: Date, p: ThrottlePolicy): ThrottleState {
  const failures = s.failures + 1;
  const ms = pauseAfter(failures, p);
  return { failures, pausedUntil: ms > 0 ? new Date(now.getTime() + ms) : s.pausedUntil };
}

/** Counts for names that are no user's: at most `maxNames`, the least recently tried forgotten first. */
export function createUnknownNameCounts(maxNames = 10_000) {
  const states = new Map<string, ThrottleState>();
  return {
    get(name: string): ThrottleState {
      return states.get(name) ?? { failures: 0, pausedUntil: null };
    },
    set(name: string, s: ThrottleState): void {
      states.delete(name);
      if (states.size >= maxNames) states.delete(states.keys().next().value!);
      states.set(name, s);
    },
    get size() {
      return states.size;
    },
  };
}

/** Names whose password is being checked now: one check per name at a time. */
export function createInFlight() {
  const names = new Set<string>();
  return {
    /** False when a check for `name` is already running. */
    enter(name: string): boolean {
      if (names.has(name)) return false;
      names.add(name);
      return true;
    },
    leave(name: string): void {
      names.delete(name);
    },
  };
}
