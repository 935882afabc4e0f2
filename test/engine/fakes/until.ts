/** Yields to the event loop until `condition()` holds; throws after `maxTurns` turns (never hangs). */
export async function until(condition: () => boolean, what = "condition", maxTurns = 20_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`gave up waiting for ${what}`);
}
