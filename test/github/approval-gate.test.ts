/**
 * Who may approve a gate, through the app's handlers with the real engine and queue (a scripted
 * agent does the model work): bots never, the repository's `trust.minPermission` counts as well as
 * the gate's own permission, and `/octoflow approve <step>` names one step.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/workflows/types.ts";
import { example, scriptedAgents, startHarness, usage, type Harness } from "./app-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Json = Record<string, unknown>;
const sender = (login: string, type = "User") => ({ login, id: 1, node_id: "U", type, site_admin: false, avatar_url: "", url: "", html_url: "" });

const GATED = `name: gated
description: Plan, ask, implement.
on:
  labels: ["octoflow:gated"]
steps:
  - id: plan
    role: generate
    prompt: "Plan {{ issue.title }}"
  - id: generate
    role: generate
    needs: plan
    approval: true
    prompt: "Implement {{ steps.plan.output }}"
`;

async function start(config: string, starter: string): Promise<{ h: Harness; run: RunRecord }> {
  const harness = await startHarness({
    files: { "README.md": "# app\n", ".github/octoflow.yml": config, ".github/octoflow/workflows/gated.yml": GATED },
    permissions: { alice: "write", mo: "maintain", rita: "read" },
    agents: scriptedAgents((req) => ({ text: `did ${req.step.id}`, usage, costUsd: 0.001 })),
    startWorkers: true,
  });
  h = harness;
  await harness.receive(
    "issues",
    await example("issues", "labeled", (p) => {
      (p.label as Json).name = "octoflow:gated";
      Object.assign(p.issue as Json, { number: 7, state: "open", title: "Add a greeting" });
      p.sender = sender(starter);
    }),
  );
  return { h: harness, run: await until(harness, (r) => r.status === "waiting") };
}

async function until(harness: Harness, predicate: (run: RunRecord) => boolean): Promise<RunRecord> {
  for (let i = 0; i < 1000; i++) {
    const [run] = await harness.store.listRuns();
    if (run && predicate(run)) {
      await harness.runtime.progress.idle();
      return run;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run did not settle: ${JSON.stringify((await harness.store.listRuns()).map((r) => r.status))}`);
}

const press = (run: RunRecord, who: string, type = "User") =>
  example("check_run", "requested_action", (p) => {
    (p.check_run as Json).external_id = run.id;
    p.requested_action = { identifier: "approve" };
    p.sender = sender(who, type);
  });

const commented = (body: string, who: string) =>
  example("issue_comment", "created", (p) => {
    Object.assign(p.comment as Json, { body, id: 555, user: sender(who) });
    p.sender = sender(who);
    Object.assign(p.issue as Json, { number: 7 });
    delete (p.issue as Json).pull_request;
  });

const bodies = (harness: Harness) => [...harness.model.state.comments.values()].map((c) => c.body).filter((b) => !b.includes("<!-- octoflow:run:"));

describe("approval gates: who may approve", () => {
  it("an allow-listed bot may start runs but never approve; /octoflow approve <step> names the step", async () => {
    const { h, run } = await start("trust:\n  allowBots: ['helper[bot]']\n", "alice");
    await h.receive("check_run", await press(run, "helper[bot]", "Bot"));
    expect(bodies(h).filter((b) => b.includes("@helper[bot], I did not approve this"))).toEqual([expect.stringContaining("bots cannot approve steps")]);
    expect((await h.store.getRun(run.id))?.status).toBe("waiting");

    await h.receive("issue_comment", await commented("/octoflow approve plan", "alice"));
    expect(bodies(h)).toContain("There is no Octoflow step `plan` waiting for an approval on this thread. `/octoflow status` shows what the runs are doing.");
    expect((await h.store.getRun(run.id))?.status).toBe("waiting");

    await h.receive("issue_comment", await commented("/octoflow approve generate", "alice"));
    const done = await until(h, (r) => r.status === "succeeded");
    const generate = (await h.store.getSteps(done.id)).find((s) => s.stepId === "generate");
    expect(generate?.approval?.by).toBe("alice");
    expect(generate?.output?.text).toBe("did generate");
    h.gh.verify();
  });

  it("a write gate in a repository whose trust.minPermission is maintain takes a maintainer", async () => {
    const { h, run } = await start("trust:\n  minPermission: maintain\n", "mo");
    await h.receive("check_run", await press(run, "alice"));
    expect(bodies(h).find((b) => b.includes("@alice, I did not approve this"))).toContain("needs **maintain** permission on this repository (you have **write**)");
    expect((await h.store.getRun(run.id))?.status).toBe("waiting");
    await h.receive("check_run", await press(run, "mo"));
    const done = await until(h, (r) => r.status === "succeeded");
    expect((await h.store.getSteps(done.id)).find((s) => s.stepId === "generate")?.approval?.by).toBe("mo");
    h.gh.verify();
  });
});
