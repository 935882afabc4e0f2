/**
 * Web links for what a run produced, on github.com or a GitHub Enterprise Server.
 */

/**
 * The web base URL: `GITHUB_SERVER_URL` (set by Actions), else derived from the API URL
 * (`https://api.github.com` → `https://github.com`, `https://ghe.example.com/api/v3` → `https://ghe.example.com`).
 */
export function githubWebUrl(env: Readonly<Record<string, string | undefined>>, apiUrl: string): string {
  const server = env.GITHUB_SERVER_URL?.trim();
  if (server && URL.canParse(server)) return server.replace(/\/+$/, "");
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/+$/, "")}`;
}

/** Links to the run's check run, sticky comment and pull request, as far as they exist. */
export function runLinksOf(
  web: string,
  run: {
    trigger: { repo: { owner: string; name: string }; number: number; isPullRequest: boolean };
    checkRunId?: number;
    commentId?: number;
    pullRequestNumber?: number;
    outputs?: { review?: { url: string } };
  },
): string[] {
  const repo = `${web}/${run.trigger.repo.owner}/${run.trigger.repo.name}`;
  const thread = `${repo}/${run.trigger.isPullRequest ? "pull" : "issues"}/${run.trigger.number}`;
  const links: string[] = [];
  if (run.pullRequestNumber !== undefined) links.push(`pull request ${repo}/pull/${run.pullRequestNumber}`);
  if (run.outputs?.review) links.push(`review ${run.outputs.review.url}`);
  if (run.checkRunId !== undefined) links.push(`check run ${repo}/runs/${run.checkRunId}`);
  if (run.commentId !== undefined) links.push(`comment ${thread}#issuecomment-${run.commentId}`);
  return links;
}
