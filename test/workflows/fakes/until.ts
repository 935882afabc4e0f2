/**
 * Yields to the event loop until `condition()` (which may read the store) holds. Gives up (throws, never hangs) only after
 * `maxMs` of wall time — a bound for a real hang, generous enough for a loaded CI machine, where
 * the number of event-loop turns a timer-driven condition needs is not predictable.
 */
export async function until(condition: () => boolean | Promise<boolean>, what = "condition", maxMs = 20_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  for (let turn = 0; ; turn++) {
    if (await condition()) return;
    if (turn % 256 === 0 && performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
