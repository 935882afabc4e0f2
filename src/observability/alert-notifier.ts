/**
 * Posts alert transitions to a Slack-compatible incoming webhook (`ALERT_WEBHOOK_URL`):
 * `{ text, blocks }`. Rate-limited per alert: at most one "firing" post per alert every
 * `minIntervalMs`; a "resolved" post follows only a firing post that was actually sent.
 */
import type { Logger } from "pino";
import type { Clock } from "../workflows/ports.ts";

export interface AlertTransition {
  alert: string;
  state: "firing" | "resolved";
  value: number;
  threshold: number;
  summary: string;
}

export interface AlertNotifier {
  notify(transition: AlertTransition): Promise<void>;
}

export interface SlackMessage {
  text: string;
  blocks: { type: "section" | "context"; text?: { type: "mrkdwn"; text: string }; elements?: { type: "mrkdwn"; text: string }[] }[];
}

/** Builds the Slack-compatible message for a transition. */
export function slackMessage(t: AlertTransition, instance?: string): SlackMessage {
  const head = t.state === "firing" ? ":rotating_light: *[FIRING]*" : ":white_check_mark: *[RESOLVED]*";
  const text = `${t.state === "firing" ? "[FIRING]" : "[RESOLVED]"} Octoflow ${t.alert}: ${t.summary}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${head} Octoflow \`${t.alert}\`\n${escapeMrkdwn(t.summary)}` } },
      {
        type: "context",
        elements: [
          { type: "mrkdwn", text: `value ${formatNumber(t.value)} · threshold ${formatNumber(t.threshold)}${instance ? ` · ${escapeMrkdwn(instance)}` : ""}` },
        ],
      },
    ],
  };
}

/**
 * @example
 * const notifier = createAlertNotifier({ webhookUrl: env.ALERT_WEBHOOK_URL, log, clock: systemClock });
 */
export function createAlertNotifier(deps: {
  webhookUrl: string;
  log: Logger;
  clock: Pick<Clock, "now">;
  fetchImpl?: typeof fetch;
  /** At most one firing post per alert in this interval; default 15 minutes. */
  minIntervalMs?: number;
  /** Shown in the message (e.g. the host name), useful with several replicas. */
  instance?: string;
  timeoutMs?: number;
}): AlertNotifier {
  const fetchImpl = deps.fetchImpl ?? globalThis.fetch;
  const minIntervalMs = deps.minIntervalMs ?? 15 * 60_000;
  const lastFiringPost = new Map<string, number>();
  const episodeNotified = new Map<string, boolean>();

  async function post(t: AlertTransition): Promise<boolean> {
    try {
      const response = await fetchImpl(deps.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(slackMessage(t, deps.instance)),
        signal: AbortSignal.timeout(deps.timeoutMs ?? 5000),
      });
      await response.body?.cancel();
      if (!response.ok) {
        deps.log.warn({ alert: t.alert, state: t.state, status: response.status }, "alert webhook answered with an error");
        return false;
      }
      return true;
    } catch (error) {
      // never log the URL: it is a secret
      deps.log.warn({ alert: t.alert, state: t.state, error: error instanceof Error ? error.name : "error" }, "alert webhook post failed");
      return false;
    }
  }

  return {
    async notify(t) {
      if (t.state === "firing") {
        const now = deps.clock.now();
        const last = lastFiringPost.get(t.alert);
        if (last !== undefined && now - last < minIntervalMs) {
          episodeNotified.set(t.alert, false);
          deps.log.debug({ alert: t.alert }, "alert post suppressed by rate limit");
          return;
        }
        lastFiringPost.set(t.alert, now);
        episodeNotified.set(t.alert, await post(t));
        return;
      }
      if (episodeNotified.get(t.alert) !== true) return;
      episodeNotified.set(t.alert, false);
      await post(t);
    },
  };
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, "");
}
