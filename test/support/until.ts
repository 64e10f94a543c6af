/** The one poller of the tests: wait for a condition, never for a fixed time. */

/**
 * Waits until `check` returns a value other than undefined/false (which it returns), polling
 * every `everyMs`; after `timeoutMs` fails naming `what`. An error `check` throws fails at once.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  o: { what?: string; timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const end = Date.now() + (o.timeoutMs ?? 10_000);
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${o.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}
