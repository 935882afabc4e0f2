/** `check_suite.completed`: another app's CI failed on Octoflow's own pull request (opt-in autofix). */
import type { Context } from "probot";
import { handleCheckSuiteCompleted } from "../ci-autofix-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onCheckSuiteCompleted(deps: HandlerDeps) {
  return async (context: Context<"check_suite.completed">): Promise<void> => {
    const { payload } = context;
    const suite = payload.check_suite;
    await handleCheckSuiteCompleted(deps, {
      deliveryId: context.id,
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      suite: {
        id: suite.id,
        conclusion: suite.conclusion ?? null,
        headBranch: suite.head_branch ?? null,
        headSha: suite.head_sha,
        appId: suite.app?.id ?? undefined,
        pullRequests: suite.pull_requests ?? [],
      },
      sender: { login: payload.sender.login, type: payload.sender.type },
    });
  };
}
