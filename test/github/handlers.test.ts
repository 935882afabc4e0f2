import { afterEach, describe, expect, it } from "vitest";
import { runIdForDelivery } from "../../src/github/run-control.ts";
import type { RunRecord } from "../../src/workflows/types.ts";
import { example, startHarness, type Harness } from "./app-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Json = Record<string, unknown>;
const sender = (login: string, type = "User") => ({ login, id: 1, node_id: "U", type, site_admin: false, avatar_url: "", url: "", html_url: "" });

const labeled = (label: string, who = "alice", number = 7) =>
  example("issues", "labeled", (p) => {
    (p.label as Json).name = label;
    (p.issue as Json).number = number;
    (p.issue as Json).state = "open";
    (p.issue as Json).title = "Add a greeting";
    p.sender = sender(who);
  });

const commented = (body: string, who = "alice", options: { pr?: boolean; number?: number } = {}) =>
  example("issue_comment", "created", (p) => {
    const comment = p.comment as Json;
    comment.body = body;
    comment.id = 555;
    comment.user = sender(who);
    p.sender = sender(who);
    const issue = p.issue as Json;
    issue.number = options.number ?? 7;
    if (options.pr) issue.pull_request = { url: "https://api.github.com/repos/octo/app/pulls/7" };
    else delete issue.pull_request;
  });

const onlyRun = async (): Promise<RunRecord> => {
  const runs = await h!.store.listRuns();
  expect(runs).toHaveLength(1);
  return runs[0]!;
};

describe("label triggers", () => {
  it("`octoflow` by a writer starts the default workflow once; a redelivery starts nothing", async () => {
    h = await startHarness({});
    const payload = await labeled("octoflow");
    await h.receive("issues", payload, "d-1");
    await h.receive("issues", payload, "d-1");
    const run = await onlyRun();
    expect(run).toMatchObject({ id: runIdForDelivery("d-1"), workflow: "feature-development", status: "queued" });
    expect(run.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(run.trigger).toMatchObject({ kind: "label", number: 7, actor: "alice", isPullRequest: false, deliveryId: "d-1", repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 } });
    expect(h.gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")).toHaveLength(1);
    h.gh.verify();
  });

  it("`octoflow:<workflow>` and the config's label map choose the workflow; other labels do nothing", async () => {
    h = await startHarness({ files: { ".github/octoflow.yml": "labels:\n  needs-docs: documentation\n" } });
    await h.receive("issues", await labeled("octoflow:bug-fix", "alice", 1));
    await h.receive("issues", await labeled("needs-docs", "alice", 2));
    await h.receive("issues", await labeled("bug", "alice", 3));
    const runs = await h.store.listRuns();
    expect(runs.map((r) => `${r.trigger.number}:${r.workflow}`).sort()).toEqual(["1:bug-fix", "2:documentation"]);
    h.gh.verify();
  });

  it("labels and commands declared in a template's `on:` start that template", async () => {
    h = await startHarness({});
    await h.receive("issues", await labeled("octoflow:bug", "alice", 4));
    await h.receive("issue_comment", await commented("/octoflow fix", "alice", { number: 5 }));
    await h.receive("issue_comment", await commented("/octoflow docs", "alice", { number: 6 }));
    const runs = await h.store.listRuns();
    expect(runs.map((r) => `${r.trigger.number}:${r.workflow}`).sort()).toEqual(["4:bug-fix", "5:bug-fix", "6:documentation"]);
    h.gh.verify();
  });

  it("a user without write access gets one polite refusal per issue, and no run", async () => {
    h = await startHarness({});
    await h.receive("issues", await labeled("octoflow", "rita"));
    await h.receive("issues", await labeled("octoflow", "rita"));
    expect(await h.store.listRuns()).toHaveLength(0);
    const comments = [...h.model.state.comments.values()];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("@rita");
    expect(comments[0]?.body).toContain("**write** access");
    h.gh.verify();
  });

  it("an invalid .github/octoflow.yml is reported with file and line, and nothing starts", async () => {
    h = await startHarness({ files: { ".github/octoflow.yml": "defaultWorkflow: feature-development\ntrust:\n  minPermission: superuser\n" } });
    await h.receive("issues", await labeled("octoflow"));
    expect(await h.store.listRuns()).toHaveLength(0);
    const [comment] = [...h.model.state.comments.values()];
    expect(comment?.body).toContain("Octoflow could not start");
    expect(comment?.body).toMatch(/\.github\/octoflow\.yml:3/);
    h.gh.verify();
  });

  it("bots are ignored unless allow-listed", async () => {
    h = await startHarness({ files: { ".github/octoflow.yml": "trust:\n  allowBots: ['helper[bot]']\n" } });
    await h.receive("issues", await labeled("octoflow", "dependabot[bot]", 1).then((p) => ((p.sender as Json).type = "Bot", p)));
    await h.receive("issues", await labeled("octoflow", "helper[bot]", 2).then((p) => ((p.sender as Json).type = "Bot", p)));
    const runs = await h.store.listRuns();
    expect(runs.map((r) => r.trigger.actor)).toEqual(["helper[bot]"]);
    expect(h.model.state.comments.size).toBe(0);
    h.gh.verify();
  });
});

describe("slash commands", () => {
  it("`/octoflow run <workflow> key=value` reacts 👀 and starts the workflow with the inputs", async () => {
    h = await startHarness({});
    await h.receive("issue_comment", await commented("Could you?\n/octoflow run feature-development scope=api"));
    const run = await onlyRun();
    expect(run.workflow).toBe("feature-development");
    expect(run.plan.inputs).toMatchObject({ scope: "api" });
    expect(run.trigger).toMatchObject({ kind: "command", commentId: 555, inputs: { scope: "api" } });
    expect(h.model.state.reactions).toEqual([{ commentId: 555, content: "eyes" }]);
    h.gh.verify();
  });

  it("ignores quoted and code-block commands without a single GitHub request", async () => {
    h = await startHarness({});
    await h.receive("issue_comment", await commented("> /octoflow run bug-fix\n\n```\n/octoflow cancel\n```"));
    expect(h.gh.requests).toHaveLength(0);
    expect(await h.store.listRuns()).toHaveLength(0);
  });

  it("answers help, unknown commands and unknown workflows with help text", async () => {
    h = await startHarness({});
    await h.receive("issue_comment", await commented("/octoflow help"));
    await h.receive("issue_comment", await commented("/octoflow frobnicate"));
    await h.receive("issue_comment", await commented("/octoflow run no-such-flow"));
    const bodies = [...h.model.state.comments.values()].map((c) => c.body);
    expect(bodies[0]).toContain("**Octoflow commands**");
    expect(bodies[1]).toContain("`frobnicate` is not an Octoflow command.");
    expect(bodies[1]).toContain("`bug-fix`");
    expect(bodies[2]).toContain("I don't know a workflow called `no-such-flow`");
    expect(await h.store.listRuns()).toHaveLength(0);
    h.gh.verify();
  });

  it("missing required inputs are explained instead of starting", async () => {
    h = await startHarness({
      files: { ".github/octoflow/workflows/triage.yml": "name: triage\ndescription: t\ninputs:\n  area:\n    required: true\nsteps:\n  - id: s\n    role: review\n    prompt: hi\n" },
    });
    await h.receive("issue_comment", await commented("/octoflow run triage"));
    expect(await h.store.listRuns()).toHaveLength(0);
    const [comment] = [...h.model.state.comments.values()];
    expect(comment?.body).toContain('input "area" is required');
    h.gh.verify();
  });

  it("status shows the table, cancel cancels the active run, retry needs a failed run", async () => {
    h = await startHarness({});
    await h.receive("issue_comment", await commented("/octoflow status"));
    await h.receive("issue_comment", await commented("/octoflow run bug-fix"));
    const run = await onlyRun();
    await h.receive("issue_comment", await commented("/octoflow status"));
    await h.receive("issue_comment", await commented("/octoflow retry"));
    await h.receive("issue_comment", await commented("/octoflow cancel"));
    expect((await h.store.getRun(run.id))?.status).toBe("cancelled");
    await h.receive("issue_comment", await commented("/octoflow cancel"));
    await h.receive("issue_comment", await commented("/octoflow retry"));
    expect((await h.store.getRun(run.id))?.status).toBe("queued");
    const bodies = [...h.model.state.comments.values()].map((c) => c.body);
    expect(bodies[0]).toContain("No Octoflow run on this thread yet");
    expect(bodies[1]).toContain("**Octoflow: bug-fix — ⏳ queued");
    expect(bodies[1]).toContain("| step | status |");
    expect(bodies[2]).toContain("no failed or cancelled Octoflow run");
    expect(bodies[3]).toContain("no active Octoflow run");
    expect(bodies).toHaveLength(4);
    h.gh.verify();
  });

  it("`/octoflow review` on a pull request reviews it with the PR's head", async () => {
    h = await startHarness({});
    h.model.addPull({ number: 7, title: "PR", body: "", draft: false, head: { ref: "feature", sha: "abc123", repoFullName: "someone/app" }, base: { ref: "main", sha: "base1" }, files: [] });
    await h.receive("issue_comment", await commented("/octoflow review", "alice", { pr: true }));
    const run = await onlyRun();
    expect(run.workflow).toBe("code-review");
    expect(run.trigger.pullRequest).toMatchObject({ headSha: "abc123", fromFork: true });
    h.gh.verify();
  });
});

describe("automatic pull-request review", () => {
  const pr = (action: string, edit: (pull: Json) => void = () => undefined) =>
    example("pull_request", action, (p) => {
      p.sender = sender("alice");
      const pull = p.pull_request as Json;
      pull.number = 9;
      pull.state = "open";
      pull.draft = false;
      pull.additions = 10;
      pull.deletions = 2;
      pull.changed_files = 1;
      (pull.head as Json).sha = "head-1";
      edit(pull);
    });

  it("skips drafts, reviews ready PRs, and on a push reviews only since the last reviewed SHA", async () => {
    h = await startHarness({});
    await h.receive("pull_request", await pr("opened", (pull) => (pull.draft = true)));
    expect(await h.store.listRuns()).toHaveLength(0);
    await h.receive("pull_request", await pr("ready_for_review"));
    const first = await onlyRun();
    expect(first.trigger).toMatchObject({ kind: "pull_request", number: 9, pullRequest: { headSha: "head-1", draft: false } });
    expect(first.trigger.pullRequest?.sinceSha).toBeUndefined();
    await h.store.setMarker("reviewed:octo/app#9", "head-1");
    await h.receive("pull_request", await pr("synchronize", (pull) => ((pull.head as Json).sha = "head-2")));
    const runs = await h.store.listRuns();
    const second = runs.find((r) => r.id !== first.id);
    expect(second?.trigger.pullRequest).toMatchObject({ headSha: "head-2", sinceSha: "head-1" });
    // the superseded review was cancelled (code-review has cancel-in-progress)
    expect((await h.store.getRun(first.id))?.status).toBe("cancelled");
    h.gh.verify();
  });

  it("honours review.auto, size limits and path filters", async () => {
    h = await startHarness({ files: { ".github/octoflow.yml": "review:\n  maxFiles: 5\n  paths:\n    exclude: ['docs/**']\n" } });
    h.model.addPull({ number: 9, title: "t", body: "", draft: false, head: { ref: "f", sha: "head-1", repoFullName: "octo/app" }, base: { ref: "main", sha: "b" }, files: [{ filename: "docs/a.md", status: "modified", additions: 1, deletions: 0 }] });
    await h.receive("pull_request", await pr("opened", (pull) => (pull.changed_files = 6)));
    await h.receive("pull_request", await pr("reopened"));
    expect(await h.store.listRuns()).toHaveLength(0);
    const [check] = [...h.model.state.checkRuns.values()];
    expect(check).toMatchObject({ name: "Octoflow: review", status: "completed", conclusion: "skipped" });
    expect(JSON.stringify(check?.output)).toContain("review.maxFiles");
    h.gh.verify();
  });
});

describe("check-run buttons", () => {
  it("Cancel and Retry act on the run named by external_id, for trusted users only", async () => {
    h = await startHarness({});
    await h.receive("issues", await labeled("octoflow:bug-fix"));
    const run = await onlyRun();
    const press = (identifier: string, who: string) =>
      example("check_run", "requested_action", (p) => {
        (p.check_run as Json).external_id = run.id;
        p.requested_action = { identifier };
        p.sender = sender(who);
      });
    await h.receive("check_run", await press("cancel", "rita"));
    expect((await h.store.getRun(run.id))?.status).toBe("queued");
    await h.receive("check_run", await press("cancel", "alice"));
    expect((await h.store.getRun(run.id))?.status).toBe("cancelled");
    await h.receive("check_run", await press("retry", "alice"));
    expect((await h.store.getRun(run.id))?.status).toBe("queued");
    h.gh.verify();
  });

  it("GitHub's re-run of a finished run starts a fresh run of the same workflow", async () => {
    h = await startHarness({});
    await h.receive("issues", await labeled("octoflow:bug-fix"));
    const run = await onlyRun();
    await h.store.transitionRun(run.id, ["queued"], "succeeded", { finishedAt: 5 });
    await h.receive("check_run", await example("check_run", "rerequested", (p) => {
      (p.check_run as Json).external_id = run.id;
      p.sender = sender("alice");
    }));
    const runs = await h.store.listRuns();
    expect(runs).toHaveLength(2);
    expect(runs.find((r) => r.id !== run.id)).toMatchObject({ workflow: "bug-fix", trigger: { kind: "check_run", number: 7 } });
    h.gh.verify();
  });
});

describe("events that never trigger", () => {
  it("an edited comment with a command does nothing", async () => {
    h = await startHarness({});
    await h.receive("issue_comment", await example("issue_comment", "edited", (p) => {
      (p.comment as Json).body = "/octoflow run bug-fix";
      p.sender = sender("alice");
    }));
    expect(h.gh.requests).toHaveLength(0);
    expect(await h.store.listRuns()).toHaveLength(0);
  });
});
