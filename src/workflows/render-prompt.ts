/**
 * Prompt templates: `{{ variable }}` (or `${{ variable }}`) substitution from a whitelist — no code,
 * no filters, no property access beyond the names below. Unknown names are load-time errors.
 *
 * Untrusted values (issue title/body, inputs, earlier steps' outputs — anything a user or a model
 * wrote) are inserted fenced as data, always in the same form:
 *
 *   <untrusted-data source="issue.body">
 *   …the text, with any "<untrusted-data" / "</untrusted-data" inside it neutralised…
 *   </untrusted-data>
 *
 * The fence is the agents' `fenceUntrusted` (one implementation for every prompt). Role system
 * prompts tell the model to treat fenced text as data, never as instructions.
 */
import { fenceUntrusted } from "./untrusted-text.ts";
import type { StepStatus, Trigger } from "./types.ts";

export const PROMPT_LIMITS = {
  /** Longest single substituted value, in characters. */
  maxValueChars: 50_000,
  /** Longest rendered prompt, in characters. */
  maxPromptChars: 200_000,
} as const;

/** Names that need no declaration. Untrusted ones are fenced when rendered. */
export const PROMPT_VARIABLES: Readonly<Record<string, { untrusted: boolean; description: string }>> = {
  "issue.title": { untrusted: true, description: "Issue or PR title" },
  "issue.body": { untrusted: true, description: "Issue or PR description" },
  "issue.number": { untrusted: false, description: "Issue or PR number" },
  "issue.url": { untrusted: false, description: "Issue or PR web URL" },
  "repo.owner": { untrusted: false, description: "Repository owner" },
  "repo.name": { untrusted: false, description: "Repository name" },
  "repo.full_name": { untrusted: false, description: "owner/name" },
  "repo.default_branch": { untrusted: false, description: "Default branch" },
  "pr.number": { untrusted: false, description: "Pull-request number (empty on issues)" },
  "pr.head_ref": { untrusted: true, description: "PR head branch" },
  "pr.base_ref": { untrusted: false, description: "PR base branch" },
  "pr.head_sha": { untrusted: false, description: "PR head commit" },
  "pr.draft": { untrusted: false, description: "true when the PR is a draft" },
  "review.request": { untrusted: true, description: "What `/octoflow fix …` asked on Octoflow's own pull request (or the CI failure in one line)" },
  "review.path": { untrusted: true, description: "File of the review comment (empty for a review body or CI)" },
  "review.line": { untrusted: false, description: "Line of the review comment (empty when none)" },
  "review.diff_hunk": { untrusted: true, description: "The diff hunk the review comment sits on" },
  "review.thread": { untrusted: true, description: "The review thread so far, oldest first, one `@author: text` block each" },
  "review.checks": { untrusted: true, description: "The failing checks (name, conclusion, summary) of a CI failure" },
  "trigger.kind": { untrusted: false, description: "label, command, pull_request, check_run, review_comment, ci_failure, cli or manual" },
  "trigger.actor": { untrusted: false, description: "Login of the user who started the run" },
  workflow: { untrusted: false, description: "Workflow name" },
};

/** A `{{ name }}` or `${{ name }}` placeholder (global: use with `replace` / `matchAll`). */
export const PLACEHOLDER_PATTERN = /\$?\{\{\s*([^{}]*?)\s*\}\}/g;

export interface PromptVariable {
  name: string;
  /** 0-based offset of the `{{`. */
  offset: number;
}

/** Lists the `{{ … }}` variables of a template, in order. */
export function promptVariables(template: string): PromptVariable[] {
  return [...template.matchAll(PLACEHOLDER_PATTERN)].map((m) => ({ name: m[1] ?? "", offset: m.index ?? 0 }));
}

/**
 * Checks a template's variables; returns one problem per unknown or unavailable name.
 * `upstream` are the step ids this step depends on (directly or transitively).
 */
export function checkPromptVariables(
  template: string,
  known: { inputs: ReadonlySet<string>; upstream: ReadonlySet<string>; steps: ReadonlySet<string> },
): string[] {
  const problems: string[] = [];
  for (const { name } of promptVariables(template)) {
    if (Object.hasOwn(PROMPT_VARIABLES, name)) continue;
    const parts = name.split(".");
    const [head, second, third] = parts;
    if (head === "inputs" && parts.length === 2 && second) {
      if (!known.inputs.has(second)) problems.push(`{{ ${name} }}: "${second}" is not a declared input`);
    } else if (head === "steps" && parts.length === 3 && second && (third === "output" || third === "status")) {
      if (!known.steps.has(second)) problems.push(`{{ ${name} }}: there is no step "${second}"`);
      else if (!known.upstream.has(second)) problems.push(`{{ ${name} }}: step "${second}" must be listed in needs (directly or through another step) to be used here`);
    } else {
      problems.push(`{{ ${name} }}: unknown variable (known: ${Object.keys(PROMPT_VARIABLES).join(", ")}, inputs.<name>, steps.<id>.output, steps.<id>.status)`);
    }
  }
  return problems;
}

export interface PromptContext {
  trigger: Trigger;
  workflow: string;
  inputs: Readonly<Record<string, string>>;
  steps: Readonly<Record<string, { status: StepStatus; output?: string }>>;
}

function cap(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n… [truncated ${text.length - limit} characters]`;
}


function resolve(name: string, context: PromptContext): { value: string; untrusted: boolean } {
  const { trigger } = context;
  const pr = trigger.pullRequest;
  const review = trigger.review;
  const fixed: Record<string, string | undefined> = {
    "issue.title": trigger.issue?.title,
    "issue.body": trigger.issue?.body,
    "issue.number": String(trigger.number),
    "issue.url": trigger.issue?.url,
    "repo.owner": trigger.repo.owner,
    "repo.name": trigger.repo.name,
    "repo.full_name": `${trigger.repo.owner}/${trigger.repo.name}`,
    "repo.default_branch": trigger.repo.defaultBranch,
    "pr.number": trigger.isPullRequest ? String(trigger.number) : "",
    "pr.head_ref": pr?.headRef,
    "pr.base_ref": pr?.baseRef,
    "pr.head_sha": pr?.headSha,
    "pr.draft": pr ? String(pr.draft) : "false",
    "review.request": review?.request,
    "review.path": review?.path,
    "review.line": review?.line === undefined ? undefined : String(review.line),
    "review.diff_hunk": review?.diffHunk,
    "review.thread": review?.thread?.map((c) => `@${c.author}:\n${c.body}`).join("\n\n"),
    "review.checks": review?.checks?.map((c) => `- ${c.name} (${c.conclusion})${c.summary ? `: ${c.summary}` : ""}`).join("\n"),
    "trigger.kind": trigger.kind,
    "trigger.actor": trigger.actor,
    workflow: context.workflow,
  };
  const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);
  const known = own(PROMPT_VARIABLES, name);
  if (known) return { value: own(fixed, name) ?? "", untrusted: known.untrusted };
  const [head, second, third] = name.split(".");
  if (head === "inputs" && second !== undefined) return { value: own(context.inputs, second) ?? "", untrusted: true };
  if (head === "steps" && second !== undefined && third === "status") return { value: own(context.steps, second)?.status ?? "pending", untrusted: false };
  if (head === "steps" && second !== undefined && third === "output") return { value: own(context.steps, second)?.output ?? "", untrusted: true };
  return { value: "", untrusted: false };
}

/**
 * Renders a prompt template. Variables were checked at load time; an unknown one renders empty.
 *
 * @example
 * renderPrompt("Fix: {{ issue.title }}", { trigger, workflow: "bug-fix", inputs: {}, steps: {} });
 * // 'Fix: <untrusted-data source="issue.title">\nCrash on start\n</untrusted-data>'
 */
export function renderPrompt(template: string, context: PromptContext): string {
  const rendered = template.replace(PLACEHOLDER_PATTERN, (_match, rawName: string) => {
    const name = rawName.trim();
    const { value, untrusted } = resolve(name, context);
    const capped = cap(value, PROMPT_LIMITS.maxValueChars);
    return untrusted ? fenceUntrusted(name, capped) : capped;
  });
  return cap(rendered, PROMPT_LIMITS.maxPromptChars);
}
