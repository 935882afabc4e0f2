import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { checkEventPayload, closest } from "../../src/cli/webhook-event-check.ts";

const examples = (event: string) => {
  const path = createRequire(import.meta.url).resolve("@octokit/webhooks-examples/api.github.com/index.json");
  const all = JSON.parse(readFileSync(path, "utf8")) as { name: string; examples: Record<string, unknown>[] }[];
  return all.find((e) => e.name === event)?.examples ?? [];
};

describe("checkEventPayload", () => {
  it("accepts every example delivery of the events the app subscribes to", () => {
    for (const event of ["issues", "issue_comment", "pull_request", "pull_request_review", "check_run", "installation"]) {
      const list = examples(event);
      expect(list.length, event).toBeGreaterThan(0);
      for (const payload of list) expect(checkEventPayload(event, payload), `${event}.${String(payload.action)}`).toBeUndefined();
    }
  });

  it("suggests the event a near miss meant, and lists examples when nothing is close", () => {
    expect(checkEventPayload("issue", {})).toBe('unknown event "issue" (did you mean "issues"?)');
    expect(checkEventPayload("pullrequest", {})).toBe('unknown event "pullrequest" (did you mean "pull_request"?)');
    expect(checkEventPayload("frobnicate", {})).toBe('unknown event "frobnicate" (e.g. issues, issue_comment, pull_request)');
  });

  it("refuses a payload of another event, naming what it looks like", () => {
    const pr = examples("pull_request").find((p) => p.action === "opened") ?? {};
    expect(checkEventPayload("issues", pr)).toBe('the payload has no "issue", which every issues delivery carries (it looks like a pull_request delivery)');
    const review = examples("pull_request_review").find((p) => p.action === "submitted") ?? {};
    expect(checkEventPayload("pull_request", review)).toMatch(/^"submitted" is not an action of pull_request events \(.*opened.*\): is this payload from another event\?$/);
  });
});

describe("closest", () => {
  it("only suggests names within a typo's distance", () => {
    expect(closest("chek_run", ["check_run", "check_suite"])).toBe("check_run");
    expect(closest("zzzzzz", ["check_run", "issues"])).toBeUndefined();
  });
});
