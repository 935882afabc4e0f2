import { describe, expect, it } from "vitest";
import { createStreamProgress } from "../../src/agents/stream-progress.ts";
import type { AgentProgress } from "../../src/workflows/ports.ts";

describe("stream progress", () => {
  it("coalesces deltas by time and size and bounds the tail", () => {
    let now = 0;
    const seen: AgentProgress[] = [];
    const progress = createStreamProgress({ onProgress: (p) => seen.push(p), now: () => now, intervalMs: 250, maxChars: 100, tailChars: 50 });
    progress.text("a".repeat(10)); // first delta reports at once
    for (let i = 0; i < 9; i++) progress.text("b".repeat(10)); // 90 chars within the interval: held back
    expect(seen).toHaveLength(1);
    progress.text("c".repeat(10)); // 100 chars pending: size trigger
    expect(seen).toHaveLength(2);
    now = 300;
    progress.text("d");
    expect(seen).toHaveLength(3);
    for (let i = 0; i < 10_000; i++) progress.text("e");
    progress.flush();
    const last = seen.at(-1)!;
    expect(last.tail).toBe("e".repeat(50));
    expect(last.tokens).toBe(Math.ceil((111 + 10_000) / 4));
    expect(seen.length).toBeLessThan(110);
    expect(seen.every((p) => p.tail.length <= 50)).toBe(true);
  });

  it("reports exactly the last characters whatever the delta sizes", () => {
    let now = 0;
    const seen: AgentProgress[] = [];
    let all = "";
    const progress = createStreamProgress({
      onProgress: (p) => {
        expect(p.tail).toBe(all.slice(-64)); // every report carries exactly the newest text
        seen.push(p);
      },
      now: () => now,
      intervalMs: 250,
      maxChars: 1_000,
      tailChars: 64,
    });
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 48271) % 2147483647;
      const delta = String.fromCharCode(97 + (i % 26)).repeat(seed % 150);
      all += delta;
      progress.text(delta);
      if (i % 97 === 0) now += 300;
    }
    progress.flush();
    expect(seen.length).toBeGreaterThan(20);
    expect(seen.at(-1)!.tail).toBe(all.slice(-64));
    expect(seen.at(-1)!.tokens).toBe(Math.ceil(all.length / 4));
  });

  it("a throwing consumer does not break the stream", () => {
    const progress = createStreamProgress({ onProgress: () => { throw new Error("slow GitHub"); }, now: () => 0 });
    expect(() => progress.text("x")).not.toThrow();
    expect(() => progress.message("m")).not.toThrow();
    expect(progress.tokens()).toBe(1);
  });
});
