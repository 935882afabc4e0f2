import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInputLines, readActionsEvent, targetOfEvent } from "../../src/cli/actions-event.ts";
import { UsageError } from "../../src/errors/usage-error.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "octoflow-actions-event-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe("readActionsEvent", () => {
  it("reads the event, the workflow and inputs inputs, and a delivery id per job attempt", () => {
    const path = write("e.json", JSON.stringify({ action: "labeled", issue: { number: 3 } }));
    const event = readActionsEvent({
      GITHUB_EVENT_NAME: "issues",
      GITHUB_EVENT_PATH: path,
      GITHUB_RUN_ID: "99",
      GITHUB_RUN_ATTEMPT: "2",
      OCTOFLOW_WORKFLOW: " bug-fix ",
      OCTOFLOW_INPUTS: "# comment\nscope = auth\n\ntone=plain=yes\n",
    });
    expect(event).toEqual({
      name: "issues",
      payload: { action: "labeled", issue: { number: 3 } },
      deliveryId: "actions:99:2:issues",
      workflow: "bug-fix",
      inputs: { scope: "auth", tone: "plain=yes" },
    });
  });

  it("treats an empty workflow input as absent", () => {
    const path = write("f.json", "{}");
    expect(readActionsEvent({ GITHUB_EVENT_NAME: "push", GITHUB_EVENT_PATH: path, OCTOFLOW_WORKFLOW: "" }).workflow).toBeUndefined();
  });

  it.each([
    [{}, "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set"],
    [{ GITHUB_EVENT_NAME: "issues", GITHUB_EVENT_PATH: "/nonexistent/event.json" }, "cannot read the event payload at GITHUB_EVENT_PATH (ENOENT)"],
    [{ GITHUB_EVENT_NAME: "issues", GITHUB_EVENT_PATH: "BAD" }, "(not JSON)"],
    [{ GITHUB_EVENT_NAME: "issues", GITHUB_EVENT_PATH: "ARRAY" }, "is not an object"],
    [{ GITHUB_EVENT_NAME: "issues", GITHUB_EVENT_PATH: "OK", OCTOFLOW_WORKFLOW: "Bug Fix" }, 'workflow: "Bug Fix" is not a workflow name'],
    [{ GITHUB_EVENT_NAME: "issues", GITHUB_EVENT_PATH: "OK", OCTOFLOW_INPUTS: "novalue" }, 'inputs: each line must be key=value, got "novalue"'],
  ])("refuses %j", (env, message) => {
    const paths: Record<string, string> = { BAD: write("bad.json", "{"), ARRAY: write("array.json", "[]"), OK: write("ok.json", "{}") };
    const resolved = { ...env, ...("GITHUB_EVENT_PATH" in env && paths[env.GITHUB_EVENT_PATH] ? { GITHUB_EVENT_PATH: paths[env.GITHUB_EVENT_PATH] } : {}) };
    expect(() => readActionsEvent(resolved)).toThrow(UsageError);
    expect(() => readActionsEvent(resolved)).toThrow(message);
  });
});

describe("targetOfEvent", () => {
  it.each([
    ["issues", { issue: { number: 4 } }, { number: 4, isPullRequest: false }],
    ["issue_comment", { issue: { number: 5, pull_request: { url: "u" } } }, { number: 5, isPullRequest: true }],
    ["pull_request", { pull_request: { number: 6 } }, { number: 6, isPullRequest: true }],
    ["pull_request_review", { pull_request: { number: 7 }, review: {} }, { number: 7, isPullRequest: true }],
    ["workflow_dispatch", { inputs: { pr: "8" } }, { number: 8, isPullRequest: true }],
    ["workflow_dispatch", { inputs: { issue: "9" } }, { number: 9, isPullRequest: false }],
    ["workflow_dispatch", { inputs: { number: 10 } }, { number: 10, isPullRequest: false }],
    ["workflow_dispatch", { inputs: { issue: "x" } }, undefined],
    ["push", { ref: "refs/heads/main" }, undefined],
  ])("%s %j", (name, payload, expected) => {
    expect(targetOfEvent({ name, payload })).toEqual(expected);
  });
});

describe("parseInputLines", () => {
  it("handles CRLF and blank lines", () => {
    expect(parseInputLines("a=1\r\n\r\nb = two words \r\n")).toEqual({ a: "1", b: "two words" });
  });
});
