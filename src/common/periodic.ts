/**
 * Runs `round` every `ms` in the background (timer unref'd) without overlapping
 * rounds. The returned stop waits for the round under way, so callers can close
 * what it uses (databases) right after.
 */
export function every(
  ms: number,
  round: (n: number) => Promise<void>,
  onError: (e: unknown) => void,
): () => Promise<void> {
  let n = 0;
  let current: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (current) return; // a slow round is not overlapped by the next
    current = round(++n)
      .catch(onError)
      .finally(() => (current = undefined));
  }, ms);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
