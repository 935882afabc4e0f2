/**
 * Other apps' check suites for the fake GitHub (what CI such as GitHub Actions reports on a commit):
 * `GET /repos/{o}/{r}/check-suites/{id}/check-runs` in GitHub's wire format. Tests add a suite with
 * its check runs, then send the `check_suite.completed` webhook that describes it.
 */
import type { GitHubFake } from "./github-server.ts";

export interface SuiteCheckRun {
  id: number;
  name: string;
  conclusion: "success" | "failure" | "timed_out" | "neutral" | "cancelled";
  title?: string;
  summary?: string;
}

export interface CheckSuites {
  suites: Map<number, { headSha: string; appId: number; runs: SuiteCheckRun[] }>;
  add(suite: { id: number; headSha: string; appId: number; runs: Omit<SuiteCheckRun, "id">[] }): void;
}

/**
 * @example
 * const ci = installCheckSuites(gh, { owner: "octo", repo: "app" });
 * ci.add({ id: 501, headSha, appId: 15368, runs: [{ name: "unit tests", conclusion: "failure", summary: "1 failed" }] });
 */
export function installCheckSuites(fake: GitHubFake, options: { owner: string; repo: string }): CheckSuites {
  const base = `/repos/${options.owner}/${options.repo}`;
  const api = `https://api.github.com${base}`;
  const html = `https://github.com/${options.owner}/${options.repo}`;
  const suites: CheckSuites["suites"] = new Map();
  let nextId = 800_000;
  fake.allow("GET", `${base}/check-suites/{check_suite_id}/check-runs`, (_req, { check_suite_id = "" }) => {
    const suite = suites.get(Number(check_suite_id));
    if (!suite) return { status: 404, body: { message: "Not Found" } };
    return {
      body: {
        total_count: suite.runs.length,
        check_runs: suite.runs.map((r) => ({
          id: r.id,
          node_id: `CR_${r.id}`,
          head_sha: suite.headSha,
          external_id: null,
          name: r.name,
          status: "completed",
          conclusion: r.conclusion,
          url: `${api}/check-runs/${r.id}`,
          html_url: `${html}/runs/${r.id}`,
          details_url: null,
          started_at: "2026-01-01T00:00:00Z",
          completed_at: "2026-01-01T00:01:00Z",
          output: { title: r.title ?? null, summary: r.summary ?? null, text: null, annotations_count: 0, annotations_url: `${api}/check-runs/${r.id}/annotations` },
          check_suite: { id: Number(check_suite_id) },
          app: { id: suite.appId, slug: "ci", name: "CI" },
          pull_requests: [],
        })),
      },
    };
  });
  return {
    suites,
    add(suite) {
      suites.set(suite.id, { headSha: suite.headSha, appId: suite.appId, runs: suite.runs.map((r) => ({ ...r, id: nextId++ })) });
    },
  };
}
