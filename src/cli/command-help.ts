/**
 * `octoflow <command> --help`: each command's options and the environment variables it reads. The
 * one-line usage each command prints with a usage error stays with the command; this is the long form.
 */

const MODEL_KEYS = `  OPENAI_API_KEY, OPENAI_BASE_URL          OpenAI
  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL    Anthropic
  OPENAI_COMPATIBLE_BASE_URL, OPENAI_COMPATIBLE_API_KEY
                                           Ollama, vLLM, llama.cpp, LM Studio, OpenRouter…
  CODEGEN_TOKEN, CODEGEN_ORG_ID, CODEGEN_BASE_URL
                                           Codegen hosted agents`;

const DOTENV = "Variables are read from the environment and from ./.env (the environment wins).";

/** By command name; a command without an entry (validate) has a usage that is already the long form. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `Usage: octoflow run <workflow> --repo owner/name (--issue N | --pr N) [options]

Runs a workflow on an issue or pull request with the app's engine, agents and outputs, authenticated
by a token. Progress goes to stderr (a live table on a terminal), the result and links to stdout.

Options:
  <workflow>                 a built-in workflow or one in the repository's .github/octoflow/workflows/
  --repo owner/name          the repository
  --issue N | --pr N         the issue or pull request the run belongs to (exactly one)
  --input key=value          a workflow input; repeat for several
  --model provider:model     default model for steps without their own (as OCTOFLOW_MODEL)
  --dry-run                  plan and print the steps and prompt sizes; write nothing
  --replace                  cancel an earlier run of this workflow here that a killed process left active
  --approve                  approve the workflow's approval gates in advance (the CLI cannot wait for one)
  --checkout DIR             where command steps run (default: the clone around the working directory)
  --progress auto|table|plain  a redrawn table on a terminal (auto), or one line per step change
  -h, --help                 this text

Environment:
  GITHUB_TOKEN, GH_TOKEN     the token (contents, issues, pull requests; checks when it may)
  GITHUB_API_URL             GitHub Enterprise Server API, e.g. https://ghe.example.com/api/v3
  OCTOFLOW_MODEL             default model (default openai:gpt-4.1-mini)
${MODEL_KEYS}
  DATABASE_URL               run history (default ./data/octoflow.db)
  LOG_LEVEL                  log lines on stderr (default warn)
  OCTOFLOW_GITHUB_THROTTLE   off: no pacing of GitHub writes (only against a local fake GitHub)
${DOTENV}

Exit codes: 0 succeeded, 1 failed, 2 bad arguments or missing credentials, 130 interrupted.`,

  replay: `Usage: octoflow replay <event> <payload.json> [--json]

Feeds a saved webhook payload through the app's own handlers and prints what the app would do:
configuration, trust gate, workflow, steps and every write it would make. Never writes.

Options:
  <event>                    the webhook event name, e.g. issues, issue_comment, pull_request
  <payload.json>             the delivery's payload (Recent deliveries, or $GITHUB_EVENT_PATH)
  --json                     the report as JSON
  -h, --help                 this text

Environment:
  GITHUB_TOKEN, GH_TOKEN     optional: read .github/octoflow.yml, templates and the sender's permission
                             like the app (without one, built-in defaults and no request at all)
  GITHUB_API_URL             GitHub Enterprise Server API
  OCTOFLOW_MODEL             default model shown in the plan
  LOG_LEVEL                  log lines on stderr (default error)
${DOTENV}

Exit codes: 0 a decision was reached, 1 the app's handler would fail, 2 bad arguments or payload.`,

  runs: `Usage: octoflow runs [options]

Lists recent runs from the run history with status, duration, tokens and cost.

Options:
  --limit N                  how many (default 20)
  --status STATUS            queued, running, succeeded, failed or cancelled
  --repo owner/name          only this repository
  --workflow NAME            only this workflow
  --json                     JSON instead of a table
  -h, --help                 this text

Environment:
  DATABASE_URL               the history to read (default ./data/octoflow.db; the app's database works too)
  GITHUB_SERVER_URL          web links (set by Actions; default https://github.com)`,

  action: `Usage: octoflow action

The GitHub Action's entry point (action.yml runs it): acts on the workflow's event like the app —
labels, /octoflow commands, automatic reviews — or runs the workflow input on every event.

Options:
  -h, --help                 this text

Environment (set by GitHub Actions and action.yml):
  GITHUB_EVENT_NAME, GITHUB_EVENT_PATH   the event and its payload
  GITHUB_TOKEN               the job's token (the github-token input)
  GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_ACTOR
  OCTOFLOW_WORKFLOW          the workflow input: run it on every event
  OCTOFLOW_INPUTS            the inputs input: key=value per line
  OCTOFLOW_MODEL             the model input
${MODEL_KEYS}
  DATABASE_URL               run history (action.yml keeps it in $RUNNER_TEMP)
  LOG_LEVEL                  log lines on stderr`,
};
