/**
 * Feeds one webhook event to the app's own handlers — the table `registerHandlers` builds, the same
 * Probot `Context` — without a Probot server: `octoflow replay` and `octoflow action` decide exactly
 * as the app would.
 */
import { Context, type Probot } from "probot";
import type { Logger } from "../observability/logger.ts";
import type { GitHubClient } from "../github/client.ts";
import { RECEIVED_EVENTS, registerHandlers } from "../github/register-handlers.ts";
import type { HandlerDeps } from "../github/start-run.ts";


type Handler = (context: Context) => Promise<void>;

export interface WebhookEvent {
  /** `issues`, `issue_comment`, … (`pull_request_target` is treated as `pull_request`). */
  name: string;
  id: string;
  payload: Record<string, unknown>;
}

export type DispatchOutcome =
  | { kind: "not-subscribed"; key: string }
  | { kind: "no-handler"; key: string }
  | { kind: "handled"; key: string };

/** `<event>.<action>` of a payload (or the bare event name when it has no action). */
export function eventKey(name: string, payload: Record<string, unknown>): string {
  const event = name === "pull_request_target" ? "pull_request" : name;
  return typeof payload.action === "string" ? `${event}.${payload.action}` : event;
}

/**
 * The app's handlers by `<event>.<action>`, as `registerHandlers` subscribes them.
 */
export function collectHandlers(deps: HandlerDeps): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  // The part of Probot that registerHandlers uses (catch-all and error hooks are the app's logging).
  const registrar = {
    on(name: string | string[], handler: Handler) {
      for (const n of Array.isArray(name) ? name : [name]) handlers.set(n, handler);
    },
    onAny() {},
    onError() {},
  };
  registerHandlers(registrar as unknown as Probot, deps);
  return handlers;
}

/**
 * Runs the handler the app would run for `event` (awaiting it). Errors of the handler propagate.
 *
 * @example
 * const outcome = await dispatchWebhook(deps, { name: "issues", id: "d1", payload }, octokit, log);
 */
export async function dispatchWebhook(deps: HandlerDeps, event: WebhookEvent, octokit: GitHubClient, log: Logger): Promise<DispatchOutcome> {
  const key = eventKey(event.name, event.payload);
  const name = key.split(".")[0] ?? key;
  if (!RECEIVED_EVENTS.includes(name)) return { kind: "not-subscribed", key };
  // Like Probot: handlers of the bare event and of `<event>.<action>` both run.
  const registered = collectHandlers(deps);
  const handlers = [...new Set([name, key])].map((k) => registered.get(k)).filter((h): h is Handler => h !== undefined);
  if (handlers.length === 0) return { kind: "no-handler", key };
  const context = new Context({ id: event.id, name, payload: event.payload } as never, octokit as never, log as never);
  for (const handler of handlers) await handler(context);
  return { kind: "handled", key };
}
