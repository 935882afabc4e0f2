/**
 * One server span per webhook delivery, parent of everything its handlers do (the run is linked
 * to it through the trace context stored with the run). Wraps the `receive` and
 * `verifyAndReceive` methods of Probot's `app.webhooks` instance; Probot's HTTP middleware calls
 * `verifyAndReceive` on that instance, `app.receive` (tests) calls `receive`.
 */
import { SpanKind } from "@opentelemetry/api";
import { withSpan } from "./tracing.ts";

const TRACED = Symbol.for("octoflow.webhooks.traced");

interface EventLike {
  id: string;
  name: string;
}

/** The two entry points of an `@octokit/webhooks` instance. */
export interface ReceivingWebhooks<A extends EventLike, B extends EventLike> {
  receive: (event: A) => Promise<void>;
  verifyAndReceive: (event: B) => Promise<void>;
}

/**
 * Wraps a webhooks instance so each delivery runs inside a `webhook <event>` span (idempotent).
 *
 * @example
 * traceWebhooks(app.webhooks); // in the Probot app function, before handlers are registered
 */
export function traceWebhooks<A extends EventLike, B extends EventLike>(webhooks: ReceivingWebhooks<A, B>): void {
  const marked = webhooks as ReceivingWebhooks<A, B> & { [TRACED]?: boolean };
  if (marked[TRACED]) return;
  marked[TRACED] = true;
  const receive = webhooks.receive.bind(webhooks);
  const verifyAndReceive = webhooks.verifyAndReceive.bind(webhooks);
  const attributes = (event: EventLike) => ({ "github.event": String(event.name), "github.delivery_id": String(event.id) });
  webhooks.receive = (event) => withSpan(`webhook ${event.name}`, attributes(event), () => receive(event), { kind: SpanKind.SERVER });
  webhooks.verifyAndReceive = (event) =>
    withSpan(`webhook ${event.name}`, attributes(event), () => verifyAndReceive(event), { kind: SpanKind.SERVER });
}
