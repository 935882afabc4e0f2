/**
 * Checks a saved delivery before it is replayed: the event name is one GitHub sends (with a "did you
 * mean" for a near miss), the payload's action is one of that event's actions, and the payload has
 * the object the event is about — so `octoflow replay issues pr.json` is refused instead of being
 * explained as "ignored".
 */
import { emitterEventNames } from "@octokit/webhooks";

const EVENT_NAMES: readonly string[] = emitterEventNames.filter((name) => !name.includes("."));

/** The object each event the app subscribes to is about (other events are ignored by the app anyway). */
const SUBJECT: Readonly<Record<string, readonly string[]>> = {
  issues: ["issue"],
  issue_comment: ["issue", "comment"],
  pull_request: ["pull_request"],
  pull_request_target: ["pull_request"],
  pull_request_review: ["pull_request", "review"],
  check_run: ["check_run"],
  installation: ["installation"],
};

/** Levenshtein distance, bounded by the lengths (event names are short). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The closest of `candidates` to `input`, when it is close enough to be a typo (or a singular /
 * plural slip), else undefined.
 *
 * @example
 * closest("issue", ["issues", "push"]); // "issues"
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(input, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(input.length / 3)) ? best.name : undefined;
}

/**
 * Why `payload` cannot be a delivery of `event`, or undefined when it can.
 *
 * @example
 * checkEventPayload("issue", payload); // 'unknown event "issue" (did you mean "issues"?)'
 */
export function checkEventPayload(event: string, payload: Record<string, unknown>): string | undefined {
  if (!EVENT_NAMES.includes(event)) {
    const guess = closest(event, EVENT_NAMES);
    return `unknown event "${event}"${guess ? ` (did you mean "${guess}"?)` : " (e.g. issues, issue_comment, pull_request)"}`;
  }
  const actions = emitterEventNames.filter((name) => name.startsWith(`${event}.`)).map((name) => name.slice(event.length + 1));
  const action = payload.action;
  if (actions.length > 0 && typeof action === "string" && !actions.includes(action)) {
    return `"${action}" is not an action of ${event} events (${actions.join(", ")}): is this payload from another event?`;
  }
  const missing = (SUBJECT[event] ?? []).filter((key) => {
    const value = payload[key];
    return !value || typeof value !== "object";
  });
  if (missing.length > 0) {
    const fromKeys = Object.keys(SUBJECT).find((other) => (SUBJECT[other] ?? []).every((key) => payload[key] && typeof payload[key] === "object") && other !== event);
    return `the payload has no ${missing.map((k) => `"${k}"`).join(" or ")}, which every ${event} delivery carries${fromKeys ? ` (it looks like a ${fromKeys} delivery)` : ""}`;
  }
  return undefined;
}
