/**
 * CI webhooks wake the runs parked on that commit (`ci:<sha>`): real example payloads through Probot
 * and the webhook inbox; Octoflow's own check runs and pending statuses wake nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { asRunId, type RunRecord } from "../../src/workflows/types.ts";
import { example, examplePayloads, startHarness, type Harness } from "./app-harness.ts";
import { runRecord, step } from "./support.ts";

type Json = Record<string, unknown>;
const SHA = "c0ffee0000000000000000000000000000000001";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({});
});
afterEach(async () => {
  await h.close();
});

/** A run parked on `ci:<SHA>` (no job: only an event wakes it). */
async function parkedRun(id: string, sha = SHA): Promise<RunRecord> {
  const run = runRecord(id, [step("verify", "ci", "none")], undefined, { status: "waiting", waiting: { since: 1, keys: [`ci:${sha}`], messages: ["verify: waiting for CI"] } });
  await h.store.createRun(run, []);
  return run;
}

/** The run the queue would execute next, if any (the wake-up is a job). */
const nextJob = async () => (await h.store.claimJob("test", Number.MAX_SAFE_INTEGER, 60_000))?.runId;

const suiteCompleted = (sha: string, appId: number) =>
  example("check_suite", "completed", (p) => {
    Object.assign(p.check_suite as Json, { head_sha: sha, app: { ...((p.check_suite as Json).app as Json), id: appId } });
  });
const runCompleted = (sha: string, appId: number) =>
  example("check_run", "completed", (p) => {
    Object.assign(p.check_run as Json, { head_sha: sha, app: { ...((p.check_run as Json).app as Json), id: appId } });
  });
const status = async (sha: string, state: string) => {
  const [payload] = await examplePayloads("status");
  return { ...payload, sha, state };
};

describe("CI webhooks", () => {
  it("check_suite.completed of another app wakes the runs waiting on that commit, only those", async () => {
    const run = await parkedRun("run-a");
    await parkedRun("run-b", "beef000000000000000000000000000000000002");
    await h.receive("check_suite", await suiteCompleted(SHA, 15368));
    expect(await nextJob()).toBe(run.id);
    expect(await nextJob()).toBeUndefined();
    h.gh.verify();
  });

  it("check_run.completed and a final status wake; Octoflow's own check runs and a pending status do not", async () => {
    const run = await parkedRun("run-c");
    await h.receive("check_run", await runCompleted(SHA, 123));
    await h.receive("check_suite", await suiteCompleted(SHA, 123));
    await h.receive("status", await status(SHA, "pending"));
    expect(await nextJob()).toBeUndefined();
    await h.receive("check_run", await runCompleted(SHA, 15368));
    expect(await nextJob()).toBe(run.id);
    await h.store.completeJob(asRunId("run-c"), "test");
    await h.receive("status", await status(SHA, "failure"));
    expect(await nextJob()).toBe(run.id);
    // no GitHub request was needed to decide any of it
    expect(h.gh.requests.filter((r) => !r.path.endsWith("/access_tokens"))).toEqual([]);
  });
});
