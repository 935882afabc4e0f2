/**
 * A typed builder for templates written in TypeScript. It produces exactly what the YAML loader
 * produces (same schema, same validation), so `planRun` treats both the same.
 *
 * @example
 * const template = workflow("triage")
 *   .describe("Label and answer new issues")
 *   .on({ labels: ["octoflow:triage"] })
 *   .step({ id: "analyse", role: "generate", prompt: "Triage {{ issue.title }}", output: "none" })
 *   .step({ id: "answer", role: "docs", prompt: "Answer using {{ steps.analyse.output }}" })
 *   .needs("analyse")
 *   .build();
 *
 * Steps that run no agent and loops are steps like any other:
 * @example
 * workflow("ship")
 *   .step({ id: "plan", role: "generate", prompt: "Plan {{ issue.title }}", output: "none" })
 *   .step({ id: "build", role: "generate", prompt: "Build it: {{ steps.plan.output }}" })
 *   .needs("plan")
 *   .approval("maintain")
 *   .step({ id: "verify", needs: "build", loop: { verify: { uses: "ci" }, fix: { role: "generate", prompt: "Fix: {{ steps.verify.output }}" } } })
 *   .build();
 */
import type { WorkflowTemplate, WorkflowTemplateInput } from "../config/template-schema.ts";
import { checkWorkflowTemplate, type LoadedTemplate } from "./load-template.ts";
import type { ValidateOptions } from "./validate-template.ts";

type StepInput = WorkflowTemplateInput["steps"][number];
type RoleInput = NonNullable<WorkflowTemplateInput["roles"]>[string];
type InputSpec = NonNullable<WorkflowTemplateInput["inputs"]>[string];
type OnInput = NonNullable<WorkflowTemplateInput["on"]>;

export interface WorkflowBuilder {
  describe(description: string): WorkflowBuilder;
  on(triggers: OnInput): WorkflowBuilder;
  input(name: string, spec?: InputSpec): WorkflowBuilder;
  role(name: string, role: RoleInput): WorkflowBuilder;
  concurrency(group: string | undefined, options?: { cancelInProgress?: boolean }): WorkflowBuilder;
  /** Adds a step; `needs`, `if`, `retries`, `timeout`, `model`, `output` may follow as calls. */
  step(step: StepInput): WorkflowBuilder;
  /** Adds dependencies to the last step. */
  needs(...ids: string[]): WorkflowBuilder;
  /** Sets the condition of the last step. */
  if(condition: string): WorkflowBuilder;
  retries(count: number): WorkflowBuilder;
  timeout(duration: string | number): WorkflowBuilder;
  model(model: string): WorkflowBuilder;
  output(output: NonNullable<StepInput["output"]>): WorkflowBuilder;
  /** Parks the run before the last step until a user with this permission (default write) approves. */
  approval(permission?: "write" | "maintain" | "admin"): WorkflowBuilder;
  /** The raw template as written (before defaults), e.g. to serialise as YAML. */
  toInput(): WorkflowTemplateInput;
  /** Validates and returns the template; throws a ConfigError naming the key path of every problem. */
  build(options?: ValidateOptions): WorkflowTemplate;
  /** `build()` wrapped as a catalog entry. */
  toLoaded(options?: ValidateOptions): LoadedTemplate;
}

/** Starts a template named `name`. */
export function workflow(name: string): WorkflowBuilder {
  const draft: WorkflowTemplateInput = { name, steps: [] };
  const steps: StepInput[] = [];
  const last = (method: string): StepInput => {
    const step = steps[steps.length - 1];
    if (!step) throw new Error(`workflow("${name}").${method}() needs a step first: call .step({...}) before it`);
    return step;
  };
  /** Sets one field of the last step (the chained `.if()`, `.retries()`, … calls). */
  const setOnLast = <K extends "if" | "retries" | "timeout" | "model" | "output" | "approval">(key: K, value: NonNullable<StepInput[K]>): WorkflowBuilder => {
    last(key)[key] = value;
    return builder;
  };
  const toNeeds = (needs: StepInput["needs"]): string[] => (needs === undefined ? [] : typeof needs === "string" ? [needs] : [...needs]);

  const builder: WorkflowBuilder = {
    describe(description) {
      draft.description = description;
      return builder;
    },
    on(triggers) {
      draft.on = { ...triggers };
      return builder;
    },
    input(inputName, spec = {}) {
      draft.inputs = { ...draft.inputs, [inputName]: { ...spec } };
      return builder;
    },
    role(roleName, role) {
      draft.roles = { ...draft.roles, [roleName]: { ...role } };
      return builder;
    },
    concurrency(group, options = {}) {
      draft.concurrency = {
        ...(group !== undefined ? { group } : {}),
        ...(options.cancelInProgress !== undefined ? { "cancel-in-progress": options.cancelInProgress } : {}),
      };
      return builder;
    },
    step(step) {
      steps.push({ ...step, ...(step.needs !== undefined ? { needs: toNeeds(step.needs) } : {}) });
      return builder;
    },
    needs(...ids) {
      const step = last("needs");
      step.needs = [...toNeeds(step.needs), ...ids];
      return builder;
    },
    if: (condition) => setOnLast("if", condition),
    retries: (count) => setOnLast("retries", count),
    timeout: (duration) => setOnLast("timeout", duration),
    model: (model) => setOnLast("model", model),
    output: (output) => setOnLast("output", output),
    approval: (permission = "write") => setOnLast("approval", permission === "write" ? true : { permission }),
    toInput() {
      return structuredClone({ ...draft, steps });
    },
    build(options = {}) {
      return checkWorkflowTemplate(builder.toInput(), `workflow("${name}")`, options);
    },
    toLoaded(options = {}) {
      return { template: builder.build(options), source: `builder:${name}` };
    },
  };
  return builder;
}
