/**
 * The one start-up line that says where GitHub's webhooks are expected: through the proxy channel
 * of WEBHOOK_PROXY_URL (smee.io) on a laptop, else straight at this server's webhook path.
 */

/** The path Probot (and so Octoflow) serves webhooks on. */
export const WEBHOOK_PATH = "/api/github/webhooks";

/**
 * @example
 * describeWebhookAddress({ HOST: "0.0.0.0", PORT: 3000 })
 * // "webhooks: expected at http://localhost:3000/api/github/webhooks — …"
 */
export function describeWebhookAddress(env: { HOST: string; PORT: number; WEBHOOK_PROXY_URL?: string | undefined }): string {
  const host = env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
  const local = `http://${host}:${env.PORT}${WEBHOOK_PATH}`;
  if (env.WEBHOOK_PROXY_URL) {
    // the channel's path is a capability (anyone holding it can read the deliveries): name only its origin
    return `webhooks: GitHub → ${new URL(env.WEBHOOK_PROXY_URL).origin}/… (WEBHOOK_PROXY_URL) → ${local}`;
  }
  return `webhooks: expected at ${local} — the GitHub App's webhook URL must reach it (https://<your host>${WEBHOOK_PATH}); on a machine GitHub cannot reach, set WEBHOOK_PROXY_URL (see .env.example)`;
}
