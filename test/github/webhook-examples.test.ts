/**
 * Every real example payload (@octokit/webhooks-examples) of every event the app subscribes to goes
 * through `probot.receive`: each is handled or ignored without an error, and every GitHub request
 * made on the way is valid against GitHub's OpenAPI description.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { examplePayloads, startHarness, type Harness } from "./app-harness.ts";

const manifest = parse(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as { default_events: string[] };
const EVENTS = [...manifest.default_events, "installation"];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({});
});
afterAll(async () => {
  await h.close();
});

describe("real webhook payloads", () => {
  it("the app subscribes to the events this test covers", () => {
    expect(EVENTS.sort()).toEqual(["check_run", "check_suite", "installation", "issue_comment", "issues", "pull_request", "pull_request_review", "pull_request_review_comment", "status"]);
  });

  it.each(EVENTS)("handles or ignores every %s example without error", async (event) => {
    const payloads = await examplePayloads(event);
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) {
      await expect(h.receive(event, payload), `${event}.${String(payload.action)}`).resolves.toBeUndefined();
    }
    h.gh.verify();
  });

  it("started exactly the automatic reviews the pull_request examples ask for", async () => {
    const runs = await h.store.listRuns({ limit: 100 });
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.workflow === "code-review" && r.trigger.kind === "pull_request" && r.trigger.pullRequest?.draft === false)).toBe(true);
    expect(h.gh.requests.every((r) => r.operationId !== undefined)).toBe(true);
  });
});
