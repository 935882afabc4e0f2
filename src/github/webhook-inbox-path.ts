/**
 * Both halves of the webhook inbox (D13) on the GitHub side:
 *
 * - `registerInbox`: the acknowledgement path. Probot has verified the signature (and the guard in
 *   `validate-delivery.ts` the payload); a delivery that could start something is stored with ONE
 *   insert (de-duplicated by its id) and GitHub gets its 2xx. Deliveries that can never start
 *   anything (a comment without `/octoflow`, a label removed from a closed issue) are answered
 *   without a write. Nothing here waits for GitHub.
 * - `createDeliveryDispatcher`: the inbox worker's processing of one stored delivery: the app's
 *   handlers (`handlerTable`), with an installation client, exactly as Probot would run them.
 */
import { context as otelContext, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { Context, type Probot } from "probot";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.ts";
import type { Clock, InboxDelivery, RunStore } from "../workflows/ports.ts";
import type { GitHubClients } from "./client.ts";
import { parseCommand } from "./command-parser.ts";
import { HANDLED_EVENTS, handlerTable } from "./register-handlers.ts";
import type { HandlerDeps } from "./start-run.ts";

type Payload = {
  action?: string;
  state?: string;
  label?: { name?: string } | null;
  issue?: { state?: string; pull_request?: unknown };
  pull_request?: { state?: string };
  comment?: { body?: string | null };
  installation?: { id?: number } | null;
};

/**
 * Whether a delivery of a handled event could start or change anything. The same early returns
 * the handlers make, taken before the write: what fails here is never stored.
 */
export function mayActOn(key: string, payload: Payload): boolean {
  switch (key) {
    case "issue_comment.created":
      return parseCommand(payload.comment?.body ?? "") !== undefined;
    case "issues.labeled":
      return Boolean(payload.label?.name) && payload.issue?.state !== "closed" && !payload.issue?.pull_request;
    case "pull_request.labeled":
      return Boolean(payload.label?.name) && payload.pull_request?.state !== "closed";
    case "status.":
      // a pending status finishes nothing: only a final one may wake a run waiting for CI
      return payload.state !== "pending";
    default:
      return true;
  }
}

export interface InboxPathDeps {
  store: RunStore;
  /** The inbox worker, told a delivery is waiting. */
  inbox: { notify(): void };
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/**
 * Subscribes the acknowledgement path to the handled events.
 *
 * @example
 * registerInbox(app, { store, inbox, clock, log, metrics });
 */
export function registerInbox(app: Probot, deps: InboxPathDeps): void {
  app.on([...HANDLED_EVENTS], async (context) => {
    const payload = context.payload as Payload;
    if (!mayActOn(`${context.name}.${payload.action ?? ""}`, payload)) {
      deps.metrics.webhooks.inc({ event: context.name, outcome: "ignored" });
      return;
    }
    const trace: Record<string, string> = {};
    propagation.inject(otelContext.active(), trace);
    const delivery = { id: context.id, name: context.name, payload: JSON.stringify(context.payload), ...(Object.keys(trace).length > 0 ? { trace } : {}) };
    const accepted = await deps.store.acceptDelivery(delivery, deps.clock.now());
    if (!accepted) {
      deps.metrics.webhooks.inc({ event: context.name, outcome: "duplicate" });
      deps.log.info({ deliveryId: context.id, event: context.name }, "redelivered webhook ignored");
      return;
    }
    deps.metrics.webhooks.inc({ event: context.name, outcome: "queued" });
    deps.inbox.notify();
  });
}

/**
 * Processes one stored delivery with the app's handlers. Throws (so the inbox retries) when the
 * installation client cannot be had or a handler fails.
 *
 * @example
 * const inbox = createWebhookInbox({ store, process: createDeliveryDispatcher(handlerDeps, clients, log) });
 */
export function createDeliveryDispatcher(deps: HandlerDeps, clients: GitHubClients, log: Logger): (delivery: InboxDelivery) => Promise<void> {
  const table = handlerTable(deps);
  return async (delivery) => {
    const payload = JSON.parse(delivery.payload) as Payload & Record<string, unknown>;
    const key = `${delivery.name}.${payload.action ?? ""}`;
    const handlers = [table.get(delivery.name), table.get(key)].filter((h) => h !== undefined);
    if (handlers.length === 0) return;
    const installationId = payload.installation?.id;
    if (installationId === undefined) {
      log.warn({ deliveryId: delivery.id, event: key }, "webhook delivery without an installation ignored");
      return;
    }
    const octokit = await clients.forInstallation(installationId);
    const context = new Context({ id: delivery.id, name: delivery.name, payload } as never, octokit as never, log.child({ deliveryId: delivery.id }) as never);
    // processing continues the trace of the acknowledgement (webhook → run → GitHub requests)
    const parent = propagation.extract(ROOT_CONTEXT, delivery.trace ?? {});
    await otelContext.with(parent, async () => {
      for (const handler of handlers) await handler(context);
    });
  };
}
