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

export const stepSchema = z
  .strictObject({
    id: identifier.describe("Unique step id, referenced by `needs` and `{{ steps.<id>.output }}`"),
    name: z.string().min(1).max(200).optional().describe("Display name (defaults to the id)"),
    role: identifier.describe("`generate`, `review`, `test`, `docs`, or a custom role"),
    prompt: z.string().min(1).max(TEMPLATE_LIMITS.maxPromptChars).describe("Prompt template; variables such as `{{ issue.title }}` or `{{ steps.analyse.output }}`"),
    needs: z
      .union([identifier, z.array(identifier).max(TEMPLATE_LIMITS.maxSteps)])
      .optional()
      .transform((needs) => (needs === undefined ? [] : typeof needs === "string" ? [needs] : needs))
      .describe("Step ids this step waits for"),
    if: z.string().min(1).max(TEMPLATE_LIMITS.maxConditionChars).optional().describe("Condition, e.g. `inputs.docs != 'false' && steps.generate.status == 'succeeded'`"),
    retries: z.number().int().min(0).max(TEMPLATE_LIMITS.maxRetries).default(STEP_DEFAULTS.retries).describe("Retries after the first attempt"),
    timeout: duration.prefault(STEP_DEFAULTS.timeout).describe("Per-attempt timeout: seconds or e.g. `10m`"),
    model: modelRef.optional(),
    output: z.enum(OUTPUT_KINDS).optional().describe("What becomes of the result (defaults from the role)"),
    tools: z
      .strictObject({
        maxRounds: z.number().int().min(1).max(200).optional().describe("Model calls (tool rounds) per attempt; default 25"),
        maxResultBytes: z.number().int().min(1_000).max(1_000_000).optional().describe("Bytes of one tool answer sent to the model; default 16000"),
        maxTokens: z.number().int().min(1_000).max(100_000_000).optional().describe("Input + output tokens of all rounds of an attempt; default 600000"),
      })
      .optional()
      .describe("Limits of the step's tool loop (built-in and custom chat-model roles)"),
  })
  .describe("One step of a workflow");

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
export type TemplateStep = z.output<typeof stepSchema>;
export type CustomRoleConfig = z.output<typeof customRoleSchema>;
