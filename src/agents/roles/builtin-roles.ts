/**
 * Role definitions: a system prompt and the kind of result (free text, file edits, review
 * findings). Built-in roles are `generate`, `review`, `test`, `docs`; any other role name must be
 * declared in the plan's `customRoles`.
 */
import { NonRetriableError } from "../../errors/non-retriable-error.ts";
import type { CustomRole, RunPlan } from "../../workflows/types.ts";

export type RoleResult = "text" | "edits" | "findings";

export interface RoleDefinition {
  name: string;
  systemPrompt: string;
  result: RoleResult;
}

const EDIT_RULES =
  "Answer with file edits. Use `modify` with search/replace blocks for existing files: each `search` must be copied exactly " +
  "from the current file and occur exactly once in it; keep blocks small. Use `create` only for files that do not exist yet, " +
  "`delete` only for files that exist. Paths are relative to the repository root. Never touch .github/workflows/. " +
  "Keep the change minimal and consistent with the surrounding code style.";

export const BUILTIN_ROLE_DEFINITIONS: Record<string, RoleDefinition> = {
  generate: {
    name: "generate",
    result: "edits",
    systemPrompt: `You are a senior software engineer implementing the change requested in a GitHub issue or command. ${EDIT_RULES}`,
  },
  review: {
    name: "review",
    result: "findings",
    systemPrompt:
      "You are a meticulous code reviewer. Review the pull request diff for bugs, security problems, missing tests and unclear code. " +
      "Report findings only on lines that appear in the diff: `line` is the line number in the new file (side RIGHT) for added or " +
      "context lines, or in the old file (side LEFT) for removed lines; use `startLine` for a range. Give a `suggestion` only when " +
      "you can provide the exact replacement text for those lines. Prefer few, important findings over many trivial ones.",
  },
  test: {
    name: "test",
    result: "edits",
    systemPrompt: `You are a test engineer. Write or extend automated tests for the change, using the test framework and conventions already in the repository. ${EDIT_RULES}`,
  },
  docs: {
    name: "docs",
    result: "edits",
    systemPrompt: `You are a technical writer. Update the documentation (README, docs/, code comments) to match the change, concisely and accurately. ${EDIT_RULES}`,
  },
};

/**
 * Finds the definition of a step's role: built-in, or declared in `plan.customRoles`.
 *
 * @throws NonRetriableError when the role is unknown
 */
export function resolveRole(role: string, plan: Pick<RunPlan, "customRoles">): RoleDefinition {
  const custom: CustomRole | undefined = plan.customRoles[role];
  if (custom) {
    const rules = custom.result === "edits" ? ` ${EDIT_RULES}` : "";
    return { name: custom.name, systemPrompt: `${custom.systemPrompt}${rules}`, result: custom.result };
  }
  const builtin = BUILTIN_ROLE_DEFINITIONS[role];
  if (builtin) return builtin;
  throw new NonRetriableError(
    `Unknown role "${role}": use one of ${Object.keys(BUILTIN_ROLE_DEFINITIONS).join(", ")} or declare it under roles: in .github/octoflow.yml`,
  );
}
