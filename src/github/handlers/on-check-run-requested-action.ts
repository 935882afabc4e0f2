/** `check_run.requested_action`: the Cancel / Retry buttons on an Octoflow check run. */
import type { Context } from "probot";
import { handleCheckRunAction } from "../check-run-trigger.ts";
import type { HandlerDeps } from "../start-run.ts";
import { repoRefOf } from "../triggers.ts";

export function onCheckRunRequestedAction(deps: HandlerDeps) {
  return async (context: Context<"check_run.requested_action">): Promise<void> => {
    const { payload } = context;
    await handleCheckRunAction(deps, {
      deliveryId: context.id,
      event: "check_run.requested_action",
      octokit: context.octokit,
      repo: repoRefOf(payload.repository, payload.installation),
      externalId: payload.check_run.external_id,
      action: payload.requested_action?.identifier ?? "",
      sender: { login: payload.sender.login, type: payload.sender.type },
    });
  };
}
