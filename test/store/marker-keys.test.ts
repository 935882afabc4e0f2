import { describe, expect, it } from "vitest";
import * as keys from "../../src/store/marker-keys.ts";
import { wakeKey } from "../../src/workflows/park-run.ts";

// The keys are persisted: a database written by an earlier version must keep resolving to the same
// markers (a resumed run must find its check run, its branch, its pull request, its posted findings).
describe("marker keys", () => {
  it("keep the spellings existing databases were written with", () => {
    expect(keys.checkRunMarkerKey("r1")).toBe("checkrun:r1");
    expect(keys.checkRunCompletedKey("r1")).toBe("checkrun:r1:completed");
    expect(keys.commentMarkerKey("r1")).toBe("comment:r1");
    expect(keys.codegenRunKey("acme/widgets#7")).toBe("codegen-run:acme/widgets#7");
    expect(keys.refusalNoticeKey("acme", "widgets", 7, "Mallory")).toBe("refused:acme/widgets#7:mallory");
    expect(keys.reviewedShaKey("acme", "widgets", 7)).toBe("reviewed:acme/widgets#7");
    expect(keys.workBranchKey("acme", "widgets", 7)).toBe("branch:acme/widgets#7");
    expect(keys.stepCommitKey("r1", "generate")).toBe("commit:r1:generate");
    expect(keys.pullRequestKey("acme", "widgets", "octoflow/7-fix")).toBe("pr:acme/widgets:octoflow/7-fix");
    expect(keys.reviewMarkerKey("r1")).toBe("review:r1");
    expect(keys.findingKey("acme", "widgets", 7, "abc123")).toBe("fp:acme/widgets#7:abc123");
    expect(keys.workspaceBaseKey("r1")).toBe("workspace-base:r1");
    expect(keys.findingSpotKey("acme", "widgets", 7, "abc123")).toBe("fp-spot:acme/widgets#7:abc123");
    expect(keys.findingFixedKey("acme", "widgets", 7, "abc123")).toBe("fp-fixed:acme/widgets#7:abc123");
    expect(keys.findingSuppressedKey("acme", "widgets", 7, "def456")).toBe("fp-suppressed:acme/widgets#7:def456");
    expect(keys.approvalRefusedKey("r1", "approve", "Mallory")).toBe("approval-refused:r1:approve:mallory");
    expect(keys.reviewReplyKey("r1")).toBe("reply:r1");
    expect(keys.autofixSlotKey("acme", "widgets", 7, 2)).toBe("autofix:acme/widgets#7:run:2");
    expect(keys.autofixHeadKey("acme", "widgets", 7, "abc")).toBe("autofix:acme/widgets#7:head:abc");
    expect(keys.autofixLimitKey("acme", "widgets", 7)).toBe("autofix:acme/widgets#7:limit");
    expect(wakeKey("r1")).toBe("wake:r1");
  });

  it("give every kind its own prefix, so two kinds never share a key", () => {
    const made = [
      keys.checkRunMarkerKey("x"),
      keys.checkRunCompletedKey("x"),
      keys.commentMarkerKey("x"),
      keys.codegenRunKey("x"),
      keys.refusalNoticeKey("x", "x", 1, "x"),
      keys.reviewedShaKey("x", "x", 1),
      keys.workBranchKey("x", "x", 1),
      keys.stepCommitKey("x", "x"),
      keys.pullRequestKey("x", "x", "x"),
      keys.reviewMarkerKey("x"),
      keys.findingKey("x", "x", 1, "x"),
      keys.workspaceBaseKey("x"),
      keys.findingSpotKey("x", "x", 1, "x"),
      keys.findingFixedKey("x", "x", 1, "x"),
      keys.findingSuppressedKey("x", "x", 1, "x"),
      keys.approvalRefusedKey("x", "x", "x"),
      keys.reviewReplyKey("x"),
      keys.autofixSlotKey("x", "x", 1, 1),
      keys.autofixHeadKey("x", "x", 1, "x"),
      keys.autofixLimitKey("x", "x", 1),
      wakeKey("x"),
    ];
    expect(new Set(made).size).toBe(made.length);
    // every kind of marker-keys.ts, plus the engine's own wake marker
    expect(Object.keys(keys)).toHaveLength(made.length - 1);
  });
});
