/**
 * Remembers nonces of accepted internal requests until they could no longer pass the
 * time check, so a captured request cannot be replayed inside its validity window.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>(); // nonce -> expiry (ms)

  constructor(private readonly maxEntries = 200_000) {}

  /** Records the nonce; returns false when it was already seen and has not expired. */
  remember(nonce: string, expiresAt: number, now: number): boolean {
    this.prune(now);
    const prior = this.seen.get(nonce);
    if (prior !== undefined && prior > now) return false;
    if (this.seen.size >= this.maxEntries) return false; // refuse rather than forget (fail closed)
    this.seen.set(nonce, expiresAt);
    return true;
  }

  private prune(now: number): void {
    // Map keeps insertion order and expiries are roughly increasing: drop from the front.
    for (const [nonce, exp] of this.seen) {
      if (exp > now) break;
      this.seen.delete(nonce);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}
