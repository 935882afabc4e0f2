/**
 * The environment of a command step: the runner's environment minus everything secret. Toolchains
 * need their variables (PATH, HOME, JAVA_HOME, GOPATH, the runner's RUNNER_* …), so this is not an
 * allow-list; what is withheld is Octoflow's own configuration (its GitHub token, model keys, database
 * URL, App key), the Action's inputs and runtime tokens, and any variable whose name says it holds a
 * secret. A repository opts a variable back in by naming it in `checkout.env`.
 */

/** Variables never passed unless opted in: Octoflow's own credentials and configuration. */
const WITHHELD = new Set([
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "GH_ENTERPRISE_TOKEN",
  "GITHUB_ENTERPRISE_TOKEN",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_RUNTIME_URL",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_CACHE_URL",
  "ACTIONS_RESULTS_URL",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "OPENAI_COMPATIBLE_API_KEY",
  "OPENAI_COMPATIBLE_BASE_URL",
  "CODEGEN_TOKEN",
  "CODEGEN_ORG_ID",
  "CODEGEN_BASE_URL",
  "DATABASE_URL",
  "PRIVATE_KEY",
  "PRIVATE_KEY_PATH",
  "WEBHOOK_SECRET",
  "DASHBOARD_TOKEN",
  "ALERT_WEBHOOK_URL",
  "APP_ID",
]);

/** Names that say a variable holds a secret (`NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `PGPASSWORD`, …). */
const SECRET_NAME = /TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH(?!OR)/i;

/** Prefixes withheld as a whole: Octoflow's settings and the Action's inputs (`INPUT_GITHUB-TOKEN`). */
const WITHHELD_PREFIXES = ["OCTOFLOW_", "INPUT_"];

/** True when `name` is not passed to a command step unless the repository opts it in. */
export function isWithheld(name: string): boolean {
  const upper = name.toUpperCase();
  return WITHHELD.has(upper) || WITHHELD_PREFIXES.some((prefix) => upper.startsWith(prefix)) || SECRET_NAME.test(name);
}

/**
 * The environment of a command: `parent` without withheld variables (those in `optIn` excepted), with
 * `CI=true` (test runners then never wait for input or watch files).
 *
 * @example
 * commandEnv({ PATH: "/usr/bin", GITHUB_TOKEN: "ghs_…", NPM_TOKEN: "…" }, ["NPM_TOKEN"]);
 * // { PATH: "/usr/bin", NPM_TOKEN: "…", CI: "true" }
 */
export function commandEnv(parent: Readonly<Record<string, string | undefined>>, optIn: readonly string[] = []): Record<string, string> {
  const allowed = new Set(optIn);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (isWithheld(name) && !allowed.has(name)) continue;
    env[name] = value;
  }
  env.CI = "true";
  return env;
}
