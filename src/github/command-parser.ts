/**
 * Slash commands in issue and pull-request comments: `/octoflow <command> [args]`.
 * Only lines of the comment's own prose count: quoted text (`>`), fenced code blocks
 * (``` or ~~~), indented code blocks (4 spaces or a tab) and HTML comments are ignored.
 */

export type Command =
  | { name: "help"; problem?: string }
  | { name: "run"; workflow: string; inputs: Record<string, string> }
  | { name: "review" }
  | { name: "status" }
  | { name: "cancel" }
  | { name: "retry" }
  /** Approve the waiting approval gate(s) of the active run(s); `step` names one step. */
  | { name: "approve"; step?: string }
  /** A word that is not a built-in command: a `commands:` alias from the repo config, or unknown. */
  | { name: "alias"; alias: string; inputs: Record<string, string> };

export const COMMAND_PREFIX = "/octoflow";

const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const INPUT_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const MAX_INPUTS = 20;
const MAX_INPUT_VALUE = 1000;

/**
 * The lines of a markdown comment that are prose (not quoted, not code, not HTML comments).
 * A quote runs on over the lines that follow it until a blank line (CommonMark's lazy
 * continuation), and an HTML comment opened mid-line hides everything up to its `-->`.
 */
export function proseLines(markdown: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  let inHtmlComment = false;
  let inQuote = false;
  let previousBlank = true;
  for (const line of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    if (fence) {
      // A closing fence: the same character, at least as long, at most 3 spaces in, nothing after it.
      const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line)?.[1];
      if (close && close[0] === fence[0] && close.length >= fence.length) fence = undefined;
      continue;
    }
    if (inHtmlComment) {
      if (line.includes("-->")) inHtmlComment = false;
      previousBlank = false;
      continue;
    }
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch?.[1]) {
      fence = fenceMatch[1];
      inQuote = false;
      continue;
    }
    const blank = line.trim() === "";
    // Indented code block: 4+ spaces / a tab after a blank line (or at the start).
    if (!blank && previousBlank && /^( {4}|\t)/.test(line)) {
      previousBlank = false;
      continue;
    }
    if (/^ {0,3}>/.test(line) || (inQuote && !blank)) {
      inQuote = true;
      previousBlank = false;
      continue;
    }
    inQuote = false;
    previousBlank = blank;
    const visible = line.replace(/<!--[\s\S]*?-->/g, "");
    const open = visible.indexOf("<!--");
    if (open >= 0) inHtmlComment = true;
    const prose = open >= 0 ? visible.slice(0, open) : visible;
    if (prose.trim() !== "") out.push(prose);
  }
  return out;
}

/** Splits `a b="c d" e='f'` into words, honouring double and single quotes. */
function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  const pattern = /\s*(?:([^\s"'=]+=)?(?:"([^"]*)"|'([^']*)'|(\S+)))/y;
  let rest = text.trim();
  while (rest.length > 0) {
    pattern.lastIndex = 0;
    const m = pattern.exec(rest);
    if (!m || (m[4] !== undefined && /["']/.test(m[4]))) return undefined;
    const word = (m[1] ?? "") + (m[2] ?? m[3] ?? m[4] ?? "");
    words.push(word);
    rest = rest.slice(m[0].length).trimStart();
  }
  return words;
}

/**
 * Finds the first `/octoflow …` command in a comment body.
 * Returns undefined when the comment has none; an unknown or malformed command yields `help`
 * with a `problem` explaining what was wrong.
 *
 * @example
 * parseCommand("/octoflow run bug-fix priority=high") // { name: "run", workflow: "bug-fix", inputs: { priority: "high" } }
 * parseCommand("> /octoflow cancel")                  // undefined (quoted)
 */
export function parseCommand(body: string): Command | undefined {
  for (const line of proseLines(body)) {
    const m = /^\s{0,3}\/octoflow(?:\s+(.*))?$/i.exec(line);
    if (!m) continue;
    const words = splitWords(m[1] ?? "");
    if (!words) return { name: "help", problem: "I could not read that command (unbalanced quotes?)." };
    const [verb, ...args] = words;
    switch ((verb ?? "help").toLowerCase()) {
      case "help":
        return { name: "help" };
      case "review":
        return { name: "review" };
      case "status":
        return { name: "status" };
      case "cancel":
        return { name: "cancel" };
      case "retry":
        return { name: "retry" };
      case "approve": {
        const [step, ...extra] = args;
        if (extra.length > 0 || (step !== undefined && !STEP_ID.test(step))) return { name: "help", problem: "`approve` takes at most a step id, e.g. `/octoflow approve` or `/octoflow approve generate`." };
        return step === undefined ? { name: "approve" } : { name: "approve", step };
      }
      case "run":
        return parseRun(args);
      default: {
        const alias = (verb ?? "").toLowerCase();
        if (!/^[a-z][a-z0-9-]{0,39}$/.test(alias)) return { name: "help", problem: `${inlineCode((verb ?? "").slice(0, 40))} is not an Octoflow command.` };
        const parsed = parseInputs(args);
        return "problem" in parsed ? { name: "help", problem: parsed.problem } : { name: "alias", alias, inputs: parsed.inputs };
      }
    }
  }
  return undefined;
}

/** Longest `/octoflow fix` request kept, in characters. */
const MAX_FIX_REQUEST = 4000;

/**
 * `/octoflow fix [what to do]` in a review comment or a review's body (on Octoflow's own pull request):
 * the free text after `fix` on that line and the prose lines after it (quotes and code ignored, like
 * every command). Undefined when the body holds no such command. In an issue comment `fix` is not
 * read here: there it stays the alias `parseCommand` returns (bug-fix by default).
 *
 * @example
 * parseFixRequest("Nice.\n/octoflow fix use a Map here") // { request: "use a Map here" }
 * parseFixRequest("/octoflow status")                     // undefined
 */
export function parseFixRequest(body: string): { request: string } | undefined {
  const lines = proseLines(body);
  const at = lines.findIndex((line) => /^\s{0,3}\/octoflow\s+fix(?:\s|$)/i.test(line));
  if (at < 0) return undefined;
  const first = (lines[at] ?? "").replace(/^\s{0,3}\/octoflow\s+fix/i, "").trim();
  const request = [first, ...lines.slice(at + 1).map((l) => l.trim())].filter((l) => l !== "").join("\n");
  return { request: request.slice(0, MAX_FIX_REQUEST) };
}

function parseRun(args: string[]): Command {
  const [workflow, ...rest] = args;
  if (!workflow) return { name: "help", problem: "`run` needs a workflow name, e.g. `/octoflow run bug-fix`." };
  if (!WORKFLOW_NAME.test(workflow)) return { name: "help", problem: `\`${workflow.slice(0, 64)}\` is not a valid workflow name.` };
  const parsed = parseInputs(rest);
  return "problem" in parsed ? { name: "help", problem: parsed.problem } : { name: "run", workflow, inputs: parsed.inputs };
}

function parseInputs(args: string[]): { inputs: Record<string, string> } | { problem: string } {
  const inputs: Record<string, string> = {};
  if (args.length > MAX_INPUTS) return { problem: `At most ${MAX_INPUTS} key=value inputs are allowed.` };
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(0, eq) : "";
    if (!INPUT_KEY.test(key)) return { problem: `${inlineCode(arg.slice(0, 64))} is not a key=value input.` };
    const value = arg.slice(eq + 1);
    if (value.length > MAX_INPUT_VALUE) return { problem: `The value of \`${key}\` is longer than ${MAX_INPUT_VALUE} characters.` };
    inputs[key] = value;
  }
  return { inputs };
}

/** Echoes a word the commenter typed as inline code it cannot break out of (no backticks, so no live @mention). */
function inlineCode(word: string): string {
  return `\`${word.replace(/`/g, "'")}\``;
}

/** The help text posted for `/octoflow help` and unknown commands. */
export function helpText(problem?: string, workflows: string[] = []): string {
  const lines = [
    ...(problem ? [`${problem}`, ""] : []),
    "**Octoflow commands** (in an issue or pull-request comment):",
    "",
    "| command | what it does |",
    "|---|---|",
    "| `/octoflow run <workflow> [key=value…]` | start a workflow on this issue or pull request |",
    "| `/octoflow review` | review this pull request |",
    "| `/octoflow status` | show the current run's steps |",
    "| `/octoflow cancel` | cancel the active run |",
    "| `/octoflow retry` | re-run the failed steps of the last failed run |",
    "| `/octoflow approve [step]` | approve the step a run waits to start (needs the gate's permission) |",
    "| `/octoflow help` | this help |",
    "",
    "Labels: `octoflow` runs the default workflow, `octoflow:<workflow>` runs that workflow.",
    "",
    "In a review comment or a review on a pull request Octoflow opened, `/octoflow fix [what to do]` changes that pull request on its own branch and answers in the thread.",
  ];
  if (workflows.length > 0) lines.push("", `Workflows: ${workflows.map((w) => `\`${w}\``).join(", ")}`);
  return lines.join("\n");
}
