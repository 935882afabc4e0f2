/**
 * `review.paths` globs are repository input: matched by picomatch in a worker with a deadline, so a
 * hostile glob is cut off with a ConfigError naming the limit while the event loop keeps running.
 */
import { describe, expect, it } from "vitest";
import { countReviewPaths } from "../../src/config/review-path-matcher.ts";
import { ConfigError } from "../../src/errors/config-error.ts";

describe("countReviewPaths", () => {
  const files = ["src/app.ts", "src/deep/x.test.ts", "docs/guide.md", ".github/CODEOWNERS", "README.md"];

  it("selects like the documented rules: exclude wins, empty include means all, dot files included", async () => {
    expect(await countReviewPaths(files, { include: [], exclude: [] })).toBe(5);
    expect(await countReviewPaths(files, { include: ["src/**"], exclude: [] })).toBe(2);
    expect(await countReviewPaths(files, { include: ["src/**"], exclude: ["**/*.test.ts"] })).toBe(1);
    expect(await countReviewPaths(files, { include: [], exclude: ["**/*.md"] })).toBe(3);
    expect(await countReviewPaths(files, { include: [".github/**", "{docs,src}/*.{md,ts}"], exclude: [] })).toBe(3);
  });

  it("brace ranges are not expanded (node's matchesGlob expanded {1..100000} for 37 s)", async () => {
    expect(await countReviewPaths(["a/5", "b/x"], { include: ["a/{1..100000}"], exclude: [] })).toBeLessThanOrEqual(1);
  });

  it("a catastrophically backtracking glob is cut off with a ConfigError naming the limit, and the event loop kept running", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const error = await countReviewPaths(["a".repeat(200)], { include: [`${"*a".repeat(12)}*b`], exclude: [] }, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/review\.paths: .* longer than 0\.3 s \(the limit\)/);
      // the interval fired while the glob ran: the main thread was never blocked by it
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
  });
});
