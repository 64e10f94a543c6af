/**
 * IMDSv2 session tokens: bounded, O(1) to look up, expiring, and held only for
 * instances. A token is bound to the instance (id and address) it was issued to, so
 * an address reused by a later instance does not inherit it. Each instance holds at
 * most PER_INSTANCE live tokens (the oldest goes first) and the store at most
 * MAX_TOKENS; expired tokens are dropped when their instance asks again, when they
 * are presented, and by a sweep that runs at most once a minute and costs one pass.
 */
import { randomBytes } from "node:crypto";

export const PER_INSTANCE = 32;
export const MAX_TOKENS = 65_536;
const SWEEP_MS = 60_000;

interface Token {
  instanceId: string;
  ip: string;
  expires: number;
}

export class MetadataTokens {
  private readonly byToken = new Map<string, Token>();
  /** Live tokens per instance, oldest first. */
  private readonly byInstance = new Map<string, string[]>();
  private lastSweep = 0;

  get size(): number {
    return this.byToken.size;
  }

  issue(instanceId: string, ip: string, ttlSeconds: number, now: number): string {
    this.sweep(now);
    for (const t of [...(this.byInstance.get(instanceId) ?? [])]) if (this.byToken.get(t)!.expires <= now) this.drop(t);
    const held = this.byInstance.get(instanceId);
    while (held && held.length >= PER_INSTANCE) this.byToken.delete(held.shift()!); // the oldest go first
    if (this.byToken.size >= MAX_TOKENS) this.evictOldest();
    const token = randomBytes(32).toString("base64url");
    this.byToken.set(token, { instanceId, ip, expires: now + ttlSeconds * 1000 });
    const mine = this.byInstance.get(instanceId) ?? [];
    mine.push(token);
    this.byInstance.set(instanceId, mine);
    return token;
  }

  /** Whether `token` is live and was issued to the instance now asking from `ip`. */
  valid(token: string, instanceId: string | undefined, ip: string, now: number): boolean {
    const t = this.byToken.get(token);
    if (!t) return false;
    if (t.expires <= now) {
      this.drop(token);
      return false;
    }
    return t.ip === ip && t.instanceId === instanceId;
  }

  private drop(token: string): boolean {
    const t = this.byToken.get(token);
    if (!t) return false;
    this.byToken.delete(token);
    const list = this.byInstance.get(t.instanceId);
    if (list) {
      const i = list.indexOf(token);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byInstance.delete(t.instanceId);
    }
    return true;
  }

  private evictOldest(): void {
    const first = this.byToken.keys().next();
    if (!first.done) this.drop(first.value);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [token, t] of this.byToken) if (t.expires <= now) this.drop(token);
  }
}
