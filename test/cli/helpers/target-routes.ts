/**
 * GitHub routes the CLI reads before a run that the repository model does not serve: the
 * repository, the issue / pull request (issues API) and the token's user.
 */
import type { GitHubFake } from "../../fakes/github-server.ts";
import type { RepoModel } from "../../fakes/github-repo-model.ts";

export interface IssueFixture {
  number: number;
  title: string;
  body: string;
  pull?: boolean;
}

const user = (login: string) => ({ login, id: 7, node_id: "U_7", type: "User", site_admin: false, avatar_url: "https://avatars.example/u", url: `https://api.github.com/users/${login}`, html_url: `https://github.com/${login}` });

/** Serves GET /repos/{o}/{r}, GET /repos/{o}/{r}/issues/{n} for `issues`, and GET /user as `login`. */
export function installTargetRoutes(fake: GitHubFake, model: RepoModel, issues: IssueFixture[], login = "octocat"): void {
  const base = `/repos/${model.owner}/${model.repo}`;
  fake.allow("GET", base, () => ({
    body: { id: 1, node_id: "R_1", name: model.repo, full_name: `${model.owner}/${model.repo}`, owner: user(model.owner), private: false, default_branch: model.defaultBranch, html_url: `https://github.com/${model.owner}/${model.repo}` },
  }));
  fake.allow("GET", `${base}/issues/{issue_number}`, (_req, { issue_number = "" }) => {
    const issue = issues.find((i) => String(i.number) === issue_number);
    if (!issue) return { status: 404, body: { message: "Not Found" } };
    return {
      body: {
        id: issue.number + 100,
        node_id: "I_1",
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: "open",
        user: user("reporter"),
        html_url: `https://github.com/${model.owner}/${model.repo}/${issue.pull ? "pull" : "issues"}/${issue.number}`,
        ...(issue.pull ? { pull_request: { url: `https://api.github.com${base}/pulls/${issue.number}` } } : {}),
      },
    };
  });
  fake.allow("GET", "/user", () => ({ body: user(login) }));
}
