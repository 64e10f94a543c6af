/**
 * A node's health as its cluster controller sees it. A node that misses a poll is
 * `suspect`, not gone: its guests may well be running (a restarting NC, a congested
 * link). Only after NODE_DOWN_SECONDS without an answer is it `down` — and even then
 * nothing it ran is given up: down means "place nothing there and fail its calls fast",
 * never "its instances ended". Only the administrator's `evacuate --fenced` (the node is
 * powered off) gives those up; a fenced node is `up` again once it answers.
 */
export type NodeHealthState = "up" | "suspect" | "down" | "fenced";

export const NODE_HEALTH_STATES = ["up", "suspect", "down", "fenced"] as const satisfies readonly NodeHealthState[];

/** The moves a node's health may make (fencing is the admin's, from any state but up's own answer). */
export const NODE_HEALTH_TRANSITIONS: Record<NodeHealthState, readonly NodeHealthState[]> = {
  up: ["suspect", "fenced"],
  suspect: ["up", "down", "fenced"],
  down: ["up", "fenced"],
  fenced: ["up"],
};

export interface NodeHealth {
  state: NodeHealthState;
  /** When it entered this state (ms since the epoch). */
  since: number;
  /** When it last answered a poll (undefined: never since it was registered). */
  lastContact?: number;
}

/**
 * The health after one poll: `answered` is whether the node reported. A silent node is
 * suspect until `downMs` have passed since its last answer (or since it was first found
 * silent, if it never answered), then down. A fenced node stays fenced until it answers.
 */
export function healthAfter(h: NodeHealth | undefined, answered: boolean, now: number, downMs: number): NodeHealth {
  if (answered) return { state: "up", since: h?.state === "up" ? h.since : now, lastContact: now };
  if (!h) return { state: "suspect", since: now };
  if (h.state === "fenced" || h.state === "down") return h;
  if (h.state === "up") return { ...h, state: "suspect", since: now };
  return now - (h.lastContact ?? h.since) >= downMs ? { ...h, state: "down", since: now } : h;
}

/** Whether new instances may go to a node in this state. */
export const placeable = (s: NodeHealthState) => s === "up";
