/** `check_run.rerequested`: GitHub's "Re-run" on an Octoflow check run. */
import type { Context } from "probot";
import { handleCheckRunAction } from "../check-run-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onCheckRunRerequested(deps: HandlerDeps) {
  return async (context: Context<"check_run.rerequested">): Promise<void> => {
    const { payload } = context;
    await handleCheckRunAction(deps, {
      deliveryId: context.id,
      event: "check_run.rerequested",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      externalId: payload.check_run.external_id,
      action: "rerun",
      sender: { login: payload.sender.login, type: payload.sender.type },
    });
  };
}
