import { describe, expect, it } from "vitest";
import { createCoalescer } from "../../src/progress/coalescer.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";

function setup(intervalMs = 3000) {
  const clock = createFakeClock({ mode: "manual" });
  const writes: number[] = [];
  let state = 0;
  const errors: unknown[] = [];
  const c = createCoalescer({
    clock,
    intervalMs,
    write: async () => {
      writes.push(state);
    },
    onError: (e) => errors.push(e),
  });
  return { clock, writes, c, errors, set: (v: number) => (state = v) };
}

describe("coalescer", () => {
  it("writes at once, then at most once per interval with the latest state", async () => {
    const { clock, writes, c, set } = setup();
    set(1);
    c.request();
    await clock.advance(0);
    expect(writes).toEqual([1]);
    for (let i = 2; i <= 1000; i++) {
      set(i);
      c.request();
    }
    await clock.advance(2999);
    expect(writes).toEqual([1]);
    await clock.advance(1);
    expect(writes).toEqual([1, 1000]);
    await clock.advance(10_000);
    expect(writes).toEqual([1, 1000]);
  });

  it("flush writes the final state immediately, cancelling the pending timer", async () => {
    const { clock, writes, c, set } = setup();
    set(1);
    c.request();
    set(2);
    c.request();
    await c.flush();
    expect(writes).toEqual([1, 2]);
    expect(clock.pending()).toBe(0);
    await c.flush();
    expect(writes).toEqual([1, 2]);
    await c.flush({ force: true });
    expect(writes).toEqual([1, 2, 2]);
  });

  it("reports write errors and carries on; close stops scheduling", async () => {
    const clock = createFakeClock({ mode: "manual" });
    const errors: unknown[] = [];
    let calls = 0;
    const c = createCoalescer({
      clock,
      intervalMs: 1000,
      write: async () => {
        calls++;
        if (calls === 1) throw new Error("boom");
      },
      onError: (e) => errors.push(e),
    });
    c.request();
    await clock.advance(0);
    c.request();
    await clock.advance(1000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    c.close();
    c.request();
    await clock.advance(5000);
    expect(calls).toBe(2);
  });
});
