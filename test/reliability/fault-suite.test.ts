/**
 * The fault suite, small (issue 14): the real app process (`node src/main.ts`) on SQLite, a fake
 * GitHub over HTTP behind a fault-injecting proxy, the fake model server, signed webhooks. Asserts
 * outcomes only — every run finished, each PR delivered once, every check run completed — never
 * timings; every wait is bounded. `bench/fault-suite.ts` runs the large version and prints figures.
 */
import { afterEach, describe, expect, it } from "vitest";
import { allFinished, seededRandom, startFaultWorld, type FaultWorld, type Outcome } from "./fault-world.ts";

let world: FaultWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Waits (bounded) until every run finished and every check run was completed, then returns the outcome. */
async function settle(w: FaultWorld, runs: number): Promise<Outcome> {
  await w.waitFor(allFinished(runs), 75_000);
  await w.waitFor(() => w.outcome().checksCompleted >= runs, 15_000).catch(() => undefined);
  return w.outcome();
}

describe("fault suite (small)", { timeout: 150_000 }, () => {
  it("kill -9 at random points of 3 label runs, restarted on the same database: all finish, one PR each, check runs completed", async () => {
    world = await startFaultWorld({ issues: 3, chunkDelayMs: 30 });
    const random = seededRandom(14);
    for (let n = 1; n <= 3; n++) {
      expect(await world.label(n)).toBe(200);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 2500)));
      await world.restart(); // kill -9, then the same database file
    }
    const outcome = await settle(world, 3);
    // a restarted process takes the stored deliveries in any order: compare by issue
    expect(outcome.runs.map((r) => [r.issue, r.status]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
      [3, "succeeded"],
    ]);
    expect(outcome).toMatchObject({ prsOnce: 3, prDuplicates: 0, checksCompleted: 3, checkDuplicates: 0, commentDuplicates: 0 });
    expect(world.gh.failures).toEqual([]);
  });

  it("20 % of GitHub writes answered 502 or a secondary rate limit: every output delivered, none twice", async () => {
    world = await startFaultWorld({ issues: 4, chunkDelayMs: 5, faults: { rate: 0.2, seed: 7 } });
    for (let n = 1; n <= 4; n++) expect(await world.label(n)).toBe(200);
    const outcome = await settle(world, 4);
    expect(world.proxy.injected.status5xx + world.proxy.injected.secondaryLimit).toBeGreaterThan(0);
    expect(outcome.runs.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(outcome).toMatchObject({ prsOnce: 4, prDuplicates: 0, checksCompleted: 4, checkDuplicates: 0, commentDuplicates: 0 });
    expect(world.gh.failures).toEqual([]);
  });
});
