/**
 * Workflow template schema (D6): the single source of truth for `workflows/*.yml`,
 * `.github/octoflow/workflows/*.yml` and the TypeScript builder. The editor JSON Schema in
 * `schema/workflow.schema.json` is generated from it (`npm run schema:generate`).
 */
import { z } from "zod";
import { OUTPUT_KINDS } from "./output-kinds.ts";

/** Hard limits that keep hostile or accidental input cheap to refuse. */
export const TEMPLATE_LIMITS = {
  maxSteps: 200,
  maxPromptChars: 20_000,
  maxSystemPromptChars: 20_000,
  maxConditionChars: 500,
  maxRetries: 10,
  /** Six hours. */
  maxTimeoutMs: 6 * 60 * 60 * 1000,
  maxInputs: 50,
  maxRoles: 50,
} as const;

export const MODEL_PROVIDERS = ["openai", "anthropic", "openai-compatible", "codegen"] as const;

/** Default per-step timeout and retries when a template leaves them out. */
export const STEP_DEFAULTS = { retries: 2, timeout: "15m" } as const;

export const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "must start with a letter and use only letters, digits, - and _ (at most 64 characters)");

export const workflowName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be lower-case letters, digits, '.', '-' or '_' (at most 64 characters), e.g. feature-development");

export const modelRef = z
  .string()
  .regex(
    new RegExp(`^(${MODEL_PROVIDERS.join("|")}):\\S{1,200}$`),
    `must be <provider>:<model> with provider one of ${MODEL_PROVIDERS.join(", ")}, e.g. anthropic:claude-sonnet-4-5`,
  )
  .describe("`<provider>:<model>`, e.g. `openai:gpt-4.1` or `anthropic:claude-sonnet-4-5`");

const DURATION = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses a duration: a number of seconds, or a string such as `90s`, `10m`, `1h30m`, `500ms`.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") {
    // `0.0001` seconds would round to a 0 ms timeout that fails every attempt at once
    const ms = Math.round(value * 1000);
    return Number.isFinite(ms) && ms >= 1 ? ms : undefined;
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDuration(Number(text));
  const match = DURATION.exec(text);
  if (!match || text === "") return undefined;
  const [, h, m, s, ms] = match.map((part) => (part === undefined ? 0 : Number(part)));
  const total = (h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1000 + (ms ?? 0);
  return total > 0 ? total : undefined;
}

export const duration = z
  .union([z.number(), z.string().max(32)])
  .describe("Seconds (`600`) or a duration such as `90s`, `10m`, `1h30m`")
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `"${String(value)}" is not a duration (use seconds, or e.g. 90s, 10m, 1h30m)` });
      return z.NEVER;
    }
    if (ms > TEMPLATE_LIMITS.maxTimeoutMs) {
      ctx.addIssue({ code: "custom", message: "must be at most 6h" });
      return z.NEVER;
    }
    return ms;
  });

/** A custom role: a system prompt plus what its result is and where it goes. */
export const customRoleSchema = z
  .strictObject({
    description: z.string().max(1000).optional().describe("What the role is for (shown in docs and the check run)"),
    systemPrompt: z.string().min(1).max(TEMPLATE_LIMITS.maxSystemPromptChars).describe("The role's system prompt"),
    output: z.enum(OUTPUT_KINDS).default("none").describe("Default output of steps using this role"),
    result: z.enum(["text", "edits", "findings"]).default("text").describe("Shape of the role's result: free text, file edits, or review findings"),
  })
  .describe("A custom role");

export const rolesSchema = z
  .record(identifier, customRoleSchema)
  .refine((roles) => Object.keys(roles).length <= TEMPLATE_LIMITS.maxRoles, `at most ${TEMPLATE_LIMITS.maxRoles} roles`)
  .describe("Custom roles, by name");

const promptText = z.string().min(1).max(TEMPLATE_LIMITS.maxPromptChars);
const stepName = z.string().min(1).max(200);

const toolLimitsSchema = z
  .strictObject({
    maxRounds: z.number().int().min(1).max(200).optional().describe("Model calls (tool rounds) per attempt; default 25"),
    maxResultBytes: z.number().int().min(1_000).max(1_000_000).optional().describe("Bytes of one tool answer sent to the model; default 16000"),
    maxTokens: z.number().int().min(1_000).max(100_000_000).optional().describe("Input + output tokens of all rounds of an attempt; default 600000"),
  })
  .describe("Limits of the step's tool loop (built-in and custom chat-model roles)");

export const APPROVAL_PERMISSIONS = ["write", "maintain", "admin"] as const;

const approvalSchema = z
  .union([
    z.boolean(),
    z.strictObject({ permission: z.enum(APPROVAL_PERMISSIONS).default("write").describe("Least repository permission of the approver") }),
  ])
  .describe("Park the run before this step until a user approves it: `true` (write permission) or `{ permission: maintain }`");

/** Defaults of `uses:` steps (they run no agent: no retries, a longer wait). */
export const USES_DEFAULTS = { timeout: "1h", noChecksAfter: "10m", command: "test" } as const;
export const USES_KINDS = ["ci", "command"] as const;

const usesFields = {
  uses: z.enum(USES_KINDS).describe("`ci`: wait for the repository's own CI on the pushed head (the App); `command`: run a command of `.github/octoflow.yml` (the CLI and the Action only)"),
  noChecksAfter: duration.optional().describe("`uses: ci`: end neutral (\"no CI reported\") when no check appears within this long; default 10m"),
  command: identifier.optional().describe("`uses: command`: the name of the command in `.github/octoflow.yml` `checkout.commands:`; default `test`"),
};

/** Keys that only a step with the given shape may carry, with the hint shown when another shape has them. */
const AGENT_ONLY = ["role", "prompt", "retries", "model", "output", "tools"] as const;
const USES_ONLY = ["uses", "noChecksAfter", "command"] as const;

type Issues = { addIssue(issue: { code: "custom"; path: PropertyKey[]; message: string }): void };

/** `noChecksAfter` belongs to `uses: ci`, `command` to `uses: command`. */
function checkUsesOptions(value: { uses?: string | undefined; noChecksAfter?: unknown; command?: unknown }, ctx: Issues, prefix: PropertyKey[] = []): void {
  if (value.noChecksAfter !== undefined && value.uses !== "ci") ctx.addIssue({ code: "custom", path: [...prefix, "noChecksAfter"], message: "noChecksAfter applies to uses: ci only" });
  if (value.command !== undefined && value.uses !== "command") ctx.addIssue({ code: "custom", path: [...prefix, "command"], message: "command applies to uses: command only" });
}

/** What `uses:` resolves to (the engine's StepUse). */
export type TemplateUse = { kind: "ci"; noChecksAfterMs: number } | { kind: "command"; command: string };

function useOf(value: { uses: (typeof USES_KINDS)[number]; noChecksAfter?: number | undefined; command?: string | undefined }): TemplateUse {
  return value.uses === "ci"
    ? { kind: "ci", noChecksAfterMs: value.noChecksAfter ?? (parseDuration(USES_DEFAULTS.noChecksAfter) as number) }
    : { kind: "command", command: value.command ?? USES_DEFAULTS.command };
}

const loopVerifySchema = z
  .strictObject({
    name: stepName.optional().describe("Display name of the verify rows (numbered #1, #2, …)"),
    ...usesFields,
    timeout: duration.optional().describe("Longest wait for CI (or the command) to finish; default 1h"),
  }, { error: (issue) => (issue.input === undefined ? "a loop needs verify: what to check, e.g. { uses: ci }" : undefined) })
  .superRefine((value, ctx) => checkUsesOptions(value, ctx))
  .transform((value) => ({
    ...(value.name !== undefined ? { name: value.name } : {}),
    use: useOf(value),
    timeout: value.timeout ?? (parseDuration(USES_DEFAULTS.timeout) as number),
  }))
  .describe("What each iteration checks");

const loopFixSchema = z
  .strictObject({
    name: stepName.optional().describe("Display name of the fix rows (numbered #1, #2, …)"),
    role: identifier.describe("The role that fixes, usually `generate`"),
    prompt: promptText.describe("Prompt of each fix; `{{ steps.<loop id>.output }}` is the verify result it follows"),
    retries: z.number().int().min(0).max(TEMPLATE_LIMITS.maxRetries).default(STEP_DEFAULTS.retries),
    timeout: duration.prefault(STEP_DEFAULTS.timeout),
    model: modelRef.optional(),
    output: z.enum(OUTPUT_KINDS).default("pull_request").describe("What becomes of each fix; default pull_request (a commit on the run's branch)"),
    tools: toolLimitsSchema.optional(),
    approval: approvalSchema.optional().describe("Ask before each fix"),
  }, { error: (issue) => (issue.input === undefined ? "a loop needs fix: the agent step that repairs a failed check, with role and prompt" : undefined) })
  .describe("The agent step that runs after a failed check");

export const LOOP_LIMITS = { maxFixes: 10, defaultFixes: 3 } as const;

export const loopSchema = z
  .strictObject({
    max: z.number().int().min(1).max(LOOP_LIMITS.maxFixes).default(LOOP_LIMITS.defaultFixes).describe("Fixes at most (1 to 10, default 3); the check runs once more after the last fix"),
    verify: loopVerifySchema,
    fix: loopFixSchema,
  })
  .describe("A bounded fix loop: check, and while the check fails fix and check again, at most `max` fixes. Unrolled into rows <id>-1, <id>-fix-1, <id>-2, …");

const stepShape = z.strictObject({
  id: identifier.describe("Unique step id, referenced by `needs` and `{{ steps.<id>.output }}`"),
  name: stepName.optional().describe("Display name (defaults to the id)"),
  role: identifier.optional().describe("`generate`, `review`, `test`, `docs`, or a custom role (agent steps)"),
  prompt: promptText.optional().describe("Prompt template; variables such as `{{ issue.title }}` or `{{ steps.analyse.output }}` (agent steps)"),
  ...usesFields,
  uses: usesFields.uses.optional(),
  loop: loopSchema.optional(),
  needs: z
    .union([identifier, z.array(identifier).max(TEMPLATE_LIMITS.maxSteps)])
    .optional()
    .transform((needs) => (needs === undefined ? [] : typeof needs === "string" ? [needs] : needs))
    .describe("Step ids this step waits for"),
  if: z.string().min(1).max(TEMPLATE_LIMITS.maxConditionChars).optional().describe("Condition, e.g. `inputs.docs != 'false' && steps.generate.status == 'succeeded'`"),
  approval: approvalSchema.optional(),
  retries: z.number().int().min(0).max(TEMPLATE_LIMITS.maxRetries).optional().describe("Retries after the first attempt; default 2 (agent steps)"),
  timeout: duration.optional().describe("Per-attempt timeout: seconds or e.g. `10m`; default 15m, 1h for `uses:` steps (the longest wait for CI)"),
  model: modelRef.optional(),
  output: z.enum(OUTPUT_KINDS).optional().describe("What becomes of the result (defaults from the role)"),
  tools: toolLimitsSchema.optional(),
});

type StepShape = z.output<typeof stepShape>;

/** Every step shape is checked here, so a mix (role with uses, a loop with a prompt) gets one plain sentence. */
function checkStepShape(step: StepShape, ctx: Issues): void {
  const has = (key: keyof StepShape) => step[key] !== undefined;
  if (step.loop !== undefined) {
    for (const key of [...AGENT_ONLY, ...USES_ONLY, "timeout", "approval"] as const) {
      if (!has(key)) continue;
      const where = key === "approval" ? "put approval under loop.fix to ask before each fix" : (USES_ONLY as readonly string[]).includes(key) || key === "timeout" ? "it belongs under loop.verify" : "it belongs under loop.fix";
      ctx.addIssue({ code: "custom", path: [key], message: `a loop step has no ${key} of its own: ${where}` });
    }
    return;
  }
  if (step.uses !== undefined) {
    for (const key of AGENT_ONLY) {
      if (has(key)) ctx.addIssue({ code: "custom", path: [key], message: `a "uses: ${step.uses}" step runs no agent: remove ${key} (role, prompt, retries, model, output and tools are for agent steps)` });
    }
    checkUsesOptions(step, ctx);
    return;
  }
  for (const key of ["noChecksAfter", "command"] as const) {
    if (has(key)) ctx.addIssue({ code: "custom", path: [key], message: `${key} needs uses: ${key === "command" ? "command" : "ci"}` });
  }
  for (const key of ["role", "prompt"] as const) {
    if (!has(key)) ctx.addIssue({ code: "custom", path: [key], message: `a step needs ${key} (with ${key === "role" ? "prompt" : "role"}), or uses: ci | command, or loop:` });
  }
}

interface StepCommon {
  id: string;
  name?: string;
  needs: string[];
  if?: string;
}
type Approval = { permission: (typeof APPROVAL_PERMISSIONS)[number] };
type ToolLimits = z.output<typeof toolLimitsSchema>;
/** An agent step: a role and a prompt. */
export interface AgentTemplateStep extends StepCommon {
  kind: "agent";
  role: string;
  prompt: string;
  retries: number;
  timeout: number;
  model?: string;
  output?: (typeof OUTPUT_KINDS)[number];
  tools?: ToolLimits;
  approval?: Approval;
}
/** A step that runs no agent: it waits for CI or runs a configured command. */
export interface UsesTemplateStep extends StepCommon {
  kind: "uses";
  use: TemplateUse;
  timeout: number;
  approval?: Approval;
}
/** A bounded fix loop, unrolled by the planner. */
export interface LoopTemplateStep extends StepCommon {
  kind: "loop";
  loop: {
    max: number;
    verify: { name?: string; use: TemplateUse; timeout: number };
    fix: Omit<AgentTemplateStep, keyof StepCommon | "kind"> & { name?: string; output: (typeof OUTPUT_KINDS)[number] };
  };
}
export type TemplateStep = AgentTemplateStep | UsesTemplateStep | LoopTemplateStep;

function approvalOf(value: boolean | Approval | undefined): { approval?: Approval } {
  if (value === undefined || value === false) return {};
  return { approval: value === true ? { permission: "write" } : value };
}

function normaliseStep(step: StepShape): TemplateStep {
  const common: StepCommon = {
    id: step.id,
    ...(step.name !== undefined ? { name: step.name } : {}),
    needs: step.needs,
    ...(step.if !== undefined ? { if: step.if } : {}),
  };
  if (step.loop !== undefined) {
    const { name, model, tools, approval, ...fix } = step.loop.fix;
    const optional = { ...(name !== undefined ? { name } : {}), ...(model !== undefined ? { model } : {}), ...(tools !== undefined ? { tools } : {}) };
    return { ...common, kind: "loop", loop: { ...step.loop, fix: { ...fix, ...optional, ...approvalOf(approval) } } };
  }
  if (step.uses !== undefined) {
    return { ...common, kind: "uses", use: useOf({ ...step, uses: step.uses }), timeout: step.timeout ?? (parseDuration(USES_DEFAULTS.timeout) as number), ...approvalOf(step.approval) };
  }
  return {
    ...common,
    kind: "agent",
    role: step.role ?? "",
    prompt: step.prompt ?? "",
    retries: step.retries ?? STEP_DEFAULTS.retries,
    timeout: step.timeout ?? (parseDuration(STEP_DEFAULTS.timeout) as number),
    ...(step.model !== undefined ? { model: step.model } : {}),
    ...(step.output !== undefined ? { output: step.output } : {}),
    ...(step.tools !== undefined ? { tools: step.tools } : {}),
    ...approvalOf(step.approval),
  };
}

const absent = (keys: readonly string[]) => ({ not: { anyOf: keys.map((key) => ({ required: [key] })) } });

export const stepSchema = stepShape
  .superRefine(checkStepShape)
  .transform(normaliseStep)
  .meta({
    description: "One step of a workflow: an agent step (role + prompt), a `uses:` step (ci or command), or a `loop:`",
    // For editors: the three shapes that checkStepShape accepts.
    oneOf: [
      { title: "Agent step", required: ["role", "prompt"], ...absent(["loop", ...USES_ONLY]) },
      { title: "uses: step", required: ["uses"], ...absent(["loop", ...AGENT_ONLY]) },
      { title: "Loop", required: ["loop"], ...absent([...AGENT_ONLY, ...USES_ONLY, "timeout", "approval"]) },
    ],
  });

export const PULL_REQUEST_EVENTS = ["opened", "synchronize", "reopened", "ready_for_review", "labeled"] as const;

export const inputSchema = z.strictObject({
  description: z.string().max(1000).optional(),
  default: z
    .union([z.string().max(10_000), z.number(), z.boolean()])
    .optional()
    .transform((v) => (v === undefined ? undefined : String(v))),
  required: z.boolean().default(false),
});

export const workflowTemplateSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: workflowName.describe("Workflow name, used by labels (`octoflow:<name>`) and commands (`/octoflow <name>`)"),
    description: z.string().max(2000).default("").describe("One line shown in the check run and `/octoflow help`"),
    on: z
      .strictObject({
        labels: z.array(z.string().min(1).max(100)).max(50).default([]).describe("Labels that start this workflow"),
        commands: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "must be a lower-case word such as review")).max(50).default([]).describe("Slash-command names: `/octoflow <command>`"),
        pull_request: z.array(z.enum(PULL_REQUEST_EVENTS)).max(10).default([]).describe("Pull-request events that start this workflow"),
      })
      .default({ labels: [], commands: [], pull_request: [] }),
    inputs: z
      .record(identifier, inputSchema)
      .refine((inputs) => Object.keys(inputs).length <= TEMPLATE_LIMITS.maxInputs, `at most ${TEMPLATE_LIMITS.maxInputs} inputs`)
      .default({})
      .describe("Inputs given as `key=value` after the command, with defaults"),
    concurrency: z
      .strictObject({
        group: z.string().min(1).max(200).optional().describe("Key of runs that must not overlap; variables `{{ repo }}`, `{{ number }}`, `{{ workflow }}`, `{{ inputs.x }}`"),
        "cancel-in-progress": z.boolean().default(false).describe("Cancel the active run of the group instead of queueing behind it"),
      })
      .optional(),
    roles: rolesSchema.default({}),
    steps: z.array(stepSchema).min(1).max(TEMPLATE_LIMITS.maxSteps),
  })
  .describe("An Octoflow workflow template");

/** A template as written (before defaults). */
export type WorkflowTemplateInput = z.input<typeof workflowTemplateSchema>;
/** A parsed, defaulted template. */
export type WorkflowTemplate = z.output<typeof workflowTemplateSchema>;
export type CustomRoleConfig = z.output<typeof customRoleSchema>;
