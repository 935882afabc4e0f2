/**
 * The edge check of a signed webhook delivery: the payload is a JSON object and, for the events and
 * actions Octoflow acts on, every field a handler reads has the type and range the handler expects.
 * A malformed delivery is answered with a 4xx naming the field, before any handler runs, so junk
 * never reaches a handler (no TypeError, no run on `#undefined`). Fields a handler does not read
 * are not checked: every real GitHub payload passes.
 *
 * `validateDelivery` is a pure function; `guardWebhooks` installs it on a webhooks instance right
 * after the signature check and keeps payloads out of the error that a failing handler logs.
 */
import { z } from "zod";

export type DeliveryVerdict = { ok: true } | { ok: false; status: 400 | 422; reason: string };

const login = z.string().min(1).max(100);
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().nonnegative().optional();
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "expected a commit SHA");
const ref = z.string().min(1).max(1000);
const text = z.string().max(1_000_000);

const repository = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a repository name"),
  owner: z.looseObject({ login }),
  default_branch: ref.optional(),
  full_name: z.string().max(200).optional(),
});
const common = {
  repository,
  installation: z.looseObject({ id: positiveInt }).nullish(),
  sender: z.looseObject({ login, type: z.string().max(100) }),
};
const label = z.looseObject({ name: z.string().min(1).max(200) }).nullish();
const issue = z.looseObject({
  number: positiveInt,
  title: text,
  body: text.nullish(),
  html_url: z.string().max(2000).optional(),
  state: z.string().max(50).optional(),
  pull_request: z.looseObject({}).nullish(),
});
const pullRequest = z.looseObject({
  number: positiveInt,
  title: text,
  body: text.nullish(),
  draft: z.boolean().optional(),
  html_url: z.string().max(2000).optional(),
  state: z.string().max(50).optional(),
  head: z.looseObject({ sha, ref, repo: z.looseObject({ full_name: z.string().max(200).optional() }).nullish() }),
  base: z.looseObject({ sha, ref, repo: z.looseObject({ full_name: z.string().max(200).optional() }).nullish() }),
  additions: count,
  deletions: count,
  changed_files: count,
});
const pullRequestEvent = z.looseObject({ ...common, pull_request: pullRequest });
const checkRun = z.looseObject({ external_id: z.string().max(1000).nullish() });

/** One schema per handled `event.action`: exactly the fields its handler reads. */
const HANDLED: Record<string, z.ZodType> = {
  "issues.labeled": z.looseObject({ ...common, label, issue }),
  "issue_comment.created": z.looseObject({
    ...common,
    issue,
    comment: z.looseObject({ id: positiveInt, body: text, user: z.looseObject({ login, type: z.string().max(100) }).nullish() }),
  }),
  "pull_request.opened": pullRequestEvent,
  "pull_request.reopened": pullRequestEvent,
  "pull_request.synchronize": pullRequestEvent,
  "pull_request.ready_for_review": pullRequestEvent,
  "pull_request.labeled": z.looseObject({ ...common, label, pull_request: pullRequest }),
  "check_run.requested_action": z.looseObject({ ...common, check_run: checkRun, requested_action: z.looseObject({ identifier: z.string().max(100) }).nullish() }),
  "check_run.rerequested": z.looseObject({ ...common, check_run: checkRun }),
};

function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(payload)";
}

/**
 * Checks a delivery whose signature is already verified. Returns `{ ok: true }`, or the status to
 * answer and a one-line reason naming the field.
 *
 * @example
 * validateDelivery("issues", { action: "labeled", issue: { number: -7 } });
 * // { ok: false, status: 422, reason: "issues.labeled: issue.number: Too small: expected number to be >0" }
 */
export function validateDelivery(eventName: unknown, payload: unknown): DeliveryVerdict {
  if (typeof eventName !== "string" || !/^[a-z][a-z0-9_]{0,63}$/.test(eventName) || eventName in Object.prototype) {
    return { ok: false, status: 400, reason: "the X-GitHub-Event header is not an event name" };
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return { ok: false, status: 400, reason: `${eventName}: the payload is not a JSON object` };
  }
  const action = (payload as { action?: unknown }).action;
  if (action !== undefined && (typeof action !== "string" || action.length > 100)) {
    return { ok: false, status: 422, reason: `${eventName}: action: expected a string` };
  }
  // Probot builds an installation client for every delivery that names one, handled or not.
  const installation = (payload as { installation?: unknown }).installation;
  if (installation !== undefined && installation !== null) {
    const id = typeof installation === "object" ? (installation as { id?: unknown }).id : undefined;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) return { ok: false, status: 422, reason: `${eventName}: installation.id: expected a positive whole number` };
  }
  const key = action === undefined ? eventName : `${eventName}.${action}`;
  const schema = Object.hasOwn(HANDLED, key) ? HANDLED[key] : undefined;
  if (!schema) return { ok: true };
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true };
  const [issue] = result.error.issues;
  return { ok: false, status: 422, reason: `${key}: ${fieldOf(issue?.path ?? [])}: ${issue?.message ?? "invalid"}` };
}

interface RawDelivery {
  id: string;
  name: string;
  payload: string;
  signature: string;
}

/** The parts of an `@octokit/webhooks` instance (Probot's `app.webhooks`) the guard uses. */
export interface GuardableWebhooks {
  verify(payload: string, signature: string): Promise<boolean>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the emitter's event union; the guard passes a checked payload through
  receive(event: { id: string; name: any; payload: any }): Promise<void>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- same
  verifyAndReceive(event: { id: string; name: any; payload: string; signature: string }): Promise<void>;
}

/**
 * Removes the delivery (`event`, with its whole payload: issue bodies may hold secrets) that
 * `@octokit/webhooks` attaches to a handler's error and to the AggregateError around it, so logging
 * the error logs the delivery id and the error only. Returns the same error.
 */
export function withoutPayload<E>(error: E): E {
  if (error && typeof error === "object") {
    delete (error as { event?: unknown }).event;
    const inners: unknown = (error as { errors?: unknown }).errors;
    for (const inner of Array.isArray(inners) ? (inners as unknown[]) : []) {
      if (inner && typeof inner === "object") delete (inner as { event?: unknown }).event;
    }
  }
  return error;
}

/**
 * Wraps `verifyAndReceive` (what the HTTP middleware calls) so a delivery whose signature matches
 * is validated before any handler runs: a malformed one is refused with its 4xx (the middleware
 * answers with the status and logs one line naming the delivery, the event and the field), and a
 * handler's failure reaches the logs without the payload. Unsigned or unparsable deliveries take the
 * library's own path (400). Idempotent.
 *
 * @example
 * guardWebhooks(app.webhooks, { onRefused: (event) => metrics.webhooks.inc({ event, outcome: "refused" }) });
 */
export function guardWebhooks(webhooks: GuardableWebhooks, options: { onRefused?: (event: string, verdict: Exclude<DeliveryVerdict, { ok: true }>) => void } = {}): void {
  const marked = webhooks as GuardableWebhooks & { [GUARDED]?: boolean };
  if (marked[GUARDED]) return;
  marked[GUARDED] = true;
  const verifyAndReceive = webhooks.verifyAndReceive.bind(webhooks);
  webhooks.verifyAndReceive = async (event: RawDelivery) => {
    const signed = typeof event.payload === "string" && (await webhooks.verify(event.payload, event.signature).catch(() => false));
    let payload: unknown;
    try {
      if (!signed) throw new Error("unsigned");
      payload = JSON.parse(event.payload);
    } catch {
      return verifyAndReceive(event);
    }
    const verdict = validateDelivery(event.name, payload);
    if (!verdict.ok) {
      options.onRefused?.(typeof event.name === "string" ? event.name.slice(0, 64) : "unknown", verdict);
      const reason = Object.assign(new Error(verdict.reason), { status: verdict.status });
      throw Object.assign(new AggregateError([reason], `webhook delivery ${event.id} refused (${verdict.status}): ${verdict.reason}`), {
        deliveryId: event.id,
        status: verdict.status,
      });
    }
    try {
      await webhooks.receive({ id: event.id, name: event.name, payload });
    } catch (error) {
      throw withoutPayload(error);
    }
  };
}

const GUARDED = Symbol.for("octoflow.webhooks.guarded");
