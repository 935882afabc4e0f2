/**
 * Loads a repository's `.github/octoflow.yml` and `.github/octoflow/workflows/*.yml` from its
 * DEFAULT BRANCH ONLY (never from a pull request's head, so a PR cannot change what runs on it),
 * and builds the workflow catalog. Results are cached per repository for `ttlMs` (default 30 s) so
 * a burst of webhooks costs one read and one parse. An invalid setup (a ConfigError) is cached like
 * a good one, so a hostile or broken repository is parsed once per TTL, not once per delivery;
 * transient failures (GitHub unreachable) are not cached.
 */
import { ConfigError } from "../errors/config-error.ts";
import { checkRepoConfigWorkflows, parseRepoConfig, REPO_CONFIG_PATH, REPO_WORKFLOWS_DIR, type RepoConfig } from "../config/repo-config.ts";
import { loadWorkflowCatalog, type LoadedTemplate, type WorkflowCatalog } from "../workflows/load-template.ts";
import type { Clock } from "../workflows/ports.ts";
import type { RepoRef } from "../workflows/types.ts";
import { httpStatus, type GitHubClient } from "./client.ts";

export interface RepoSetup {
  config: RepoConfig;
  catalog: WorkflowCatalog;
}

export interface RepoSetupLoader {
  /** Throws a ConfigError (problems name file and line) when the config or a template is invalid. */
  load(octokit: GitHubClient, repo: RepoRef): Promise<RepoSetup>;
  /** Forgets the cached setup of a repository (e.g. after a push to its default branch). */
  invalidate(repo: Pick<RepoRef, "owner" | "name">): void;
}

/** Most repository templates read per load. */
const MAX_TEMPLATE_FILES = 50;

async function readText(octokit: GitHubClient, repo: RepoRef, path: string): Promise<string | undefined> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path, ref: repo.defaultBranch, mediaType: { format: "raw" } });
    return typeof data === "string" ? data : undefined;
  } catch (error) {
    if (httpStatus(error) === 404) return undefined;
    throw error;
  }
}

async function listTemplates(octokit: GitHubClient, repo: RepoRef): Promise<string[]> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path: REPO_WORKFLOWS_DIR, ref: repo.defaultBranch });
    if (!Array.isArray(data)) return [];
    return data
      .filter((e) => e.type === "file" && /\.ya?ml$/.test(e.name))
      .map((e) => e.path)
      .sort()
      .slice(0, MAX_TEMPLATE_FILES);
  } catch (error) {
    if (httpStatus(error) === 404) return [];
    throw error;
  }
}

/**
 * @example
 * const setups = createRepoSetupLoader({ builtins: loadBuiltinTemplates(), clock: systemClock });
 * const { config, catalog } = await setups.load(context.octokit, repo);
 */
export function createRepoSetupLoader(deps: { builtins: readonly LoadedTemplate[]; clock: Clock; ttlMs?: number }): RepoSetupLoader {
  const ttlMs = deps.ttlMs ?? 30_000;
  const cache = new Map<string, { at: number; setup: Promise<RepoSetup> }>();
  const keyOf = (repo: Pick<RepoRef, "owner" | "name">) => `${repo.owner}/${repo.name}`.toLowerCase();

  const read = async (octokit: GitHubClient, repo: RepoRef): Promise<RepoSetup> => {
    const [configText, templatePaths] = await Promise.all([readText(octokit, repo, REPO_CONFIG_PATH), listTemplates(octokit, repo)]);
    const config = parseRepoConfig(configText ?? "", REPO_CONFIG_PATH);
    const files: { path: string; content: string }[] = [];
    for (const path of templatePaths) {
      const content = await readText(octokit, repo, path);
      if (content !== undefined) files.push({ path, content });
    }
    const catalog = loadWorkflowCatalog(deps.builtins, files, { extraRoles: config.roles });
    const problems = checkRepoConfigWorkflows(config, catalog.names(), REPO_CONFIG_PATH, configText);
    if (problems.length > 0) throw new ConfigError(`Invalid ${REPO_CONFIG_PATH}:\n${problems.map((p) => `  ${p}`).join("\n")}`, { problems });
    return { config, catalog };
  };

  return {
    load(octokit, repo) {
      const key = keyOf(repo);
      const hit = cache.get(key);
      if (hit && deps.clock.now() - hit.at < ttlMs) return hit.setup;
      const setup = read(octokit, repo);
      cache.set(key, { at: deps.clock.now(), setup });
      setup.catch((error: unknown) => {
        if (!(error instanceof ConfigError) && cache.get(key)?.setup === setup) cache.delete(key);
      });
      if (cache.size > 5000) cache.delete(cache.keys().next().value as string);
      return setup;
    },
    invalidate(repo) {
      cache.delete(keyOf(repo));
    },
  };
}
