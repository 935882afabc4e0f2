import { describe, expect, it } from "vitest";
import { statusReply } from "../../src/github/command-actions.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { runRecord, step, trigger } from "./support.ts";

describe("statusReply", () => {
  it("shows the newest run's table and its error without secrets or live @mentions", async () => {
    const store = createMemoryRunStore();
    const t = trigger();
    const secret = "ghp_" + "b".repeat(36);
    const run = runRecord("run-s", [step("generate", "generate", "none")], t, { status: "failed", error: `model said "ask @octocat" with ${secret}\nsecond line` });
    await store.createRun(run, []);
    const reply = await statusReply({ store }, t.repo, t.number);
    await store.close();
    expect(reply).toContain("| step | status |");
    expect(reply).toContain("model said");
    expect(reply).not.toContain(secret);
    expect(reply).not.toMatch(/(^|[^\w])@octocat/);
    expect(reply).not.toContain("second line");
  });
});
