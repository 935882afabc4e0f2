/**
 * Safe YAML loading with locations. Hostile input (huge files, alias bombs, deep nesting) is refused
 * before or during parsing with a clear message; every problem reads `file:line: key.path: message`.
 */
import { Composer, CST, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors/config-error.ts";

export const YAML_LIMITS = {
  /** Largest file accepted, in bytes. */
  maxBytes: 1_000_000,
  /** YAML nodes (scalars, collections, list items) per file, counted while the file is tokenised. */
  maxNodes: 10_000,
  /** Keys in one mapping. */
  maxKeysPerMapping: 1_000,
  /** Alias nodes allowed (and the expansion budget passed to the parser). */
  maxAliases: 100,
  /** Deepest flow (`[` / `{`) nesting. */
  maxFlowDepth: 64,
  /** Deepest block indentation, in columns. */
  maxIndent: 400,
  /** Problems listed at most (the rest are counted). */
  maxProblems: 50,
} as const;

export type YamlPath = readonly PropertyKey[];

export interface ParsedYaml {
  file: string;
  value: unknown;
  /** 1-based line of the node at `path` (or of its deepest existing parent). */
  lineOf(path: YamlPath): number | undefined;
}

/** Formats a key path as `steps[2].needs`. */
export function formatPath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[A-Za-z_$][\w$-]*$/.test(key) ? (out === "" ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out || "(root)";
}

/** One problem line: `file:line: key.path: message`. */
export function formatProblem(file: string, line: number | undefined, path: YamlPath, message: string): string {
  return `${file}${line === undefined ? "" : `:${line}`}: ${formatPath(path)}: ${message}`;
}

/** Throws a ConfigError listing problems (capped), with a one-line summary. */
export function throwProblems(file: string, problems: string[]): never {
  const shown = problems.slice(0, YAML_LIMITS.maxProblems);
  if (problems.length > shown.length) shown.push(`${file}: … and ${problems.length - shown.length} more problems`);
  throw new ConfigError(`${file} is invalid:\n${shown.map((p) => `  ${p}`).join("\n")}`, { problems: shown });
}

function lineAt(content: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < content.length; i++) if (content.charCodeAt(i) === 10) line++;
  return line;
}

/** Cheap scan for nesting that would make a recursive parser work too hard. */
function preflight(content: string, file: string): void {
  const bytes = Buffer.byteLength(content, "utf8");
  if (bytes > YAML_LIMITS.maxBytes) {
    throwProblems(file, [formatProblem(file, 1, [], `file is ${(bytes / 1_000_000).toFixed(1)} MB; the limit is ${YAML_LIMITS.maxBytes / 1_000_000} MB`)]);
  }
  let depth = 0;
  let quote: string | undefined;
  let lineStart = 0;
  for (let i = 0; i < content.length; i++) {
    const ch = content[i];
    if (ch === "\n") {
      lineStart = i + 1;
      quote = undefined;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "#" && (i === lineStart || content[i - 1] === " ")) {
      const next = content.indexOf("\n", i);
      i = next === -1 ? content.length : next - 1;
      continue;
    }
    // A quote opens a quoted scalar only where a scalar can start (not inside `it's`).
    if ((ch === '"' || ch === "'") && depth > 0 && /[\s[{,:]/.test(content[i - 1] ?? " ")) quote = ch;
    else if (ch === "[" || ch === "{") {
      depth++;
      if (depth > YAML_LIMITS.maxFlowDepth) throwProblems(file, [formatProblem(file, lineAt(content, i), [], `nesting deeper than ${YAML_LIMITS.maxFlowDepth} levels is not accepted`)]);
    } else if ((ch === "]" || ch === "}") && depth > 0) depth--;
    else if (i === lineStart && (ch === " " || ch === "-" || ch === "?")) {
      // Indentation plus compact block indicators ("- - - x") is the block nesting depth.
      let end = i;
      while (content[end] === " " || ((content[end] === "-" || content[end] === "?") && content[end + 1] === " ")) end++;
      if (end - i > YAML_LIMITS.maxIndent) throwProblems(file, [formatProblem(file, lineAt(content, i), [], `nesting deeper than ${YAML_LIMITS.maxIndent} columns of indentation is not accepted`)]);
      i = Math.max(i, end - 1);
    }
  }
}

function nodeLine(node: { range?: [number, number, number] | null | undefined } | null | undefined, counter: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : counter.linePos(start).line;
}

function makeLineOf(doc: Document, counter: LineCounter) {
  // Pairs by key, per mapping, built on first use: looking up every problem's path stays linear.
  const index = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let byKey = index.get(map);
    if (!byKey) {
      byKey = new Map();
      for (const item of map.items) if (isPair(item) && isScalar(item.key) && !byKey.has(String(item.key.value))) byKey.set(String(item.key.value), item);
      index.set(map, byKey);
    }
    return byKey.get(key);
  };
  return (path: YamlPath): number | undefined => {
    let node: unknown = doc.contents;
    let line = nodeLine(node as Node, counter) ?? 1;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = pairOf(node, String(segment));
        if (!pair) break;
        line = nodeLine(pair.key as Node, counter) ?? line;
        node = pair.value;
        if (node && (isScalar(node) || typeof segment !== "string")) line = nodeLine(node as Node, counter) ?? line;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (item === undefined) break;
        node = item;
        line = nodeLine(item as Node, counter) ?? line;
      } else break;
    }
    return line;
  };
}

/** Lexer tokens that start a node: counting them bounds the work of composing the document. */
const NODE_TOKENS: ReadonlySet<CST.TokenType | null> = new Set<CST.TokenType | null>([
  "scalar",
  "single-quoted-scalar",
  "double-quoted-scalar",
  "block-scalar-header",
  "flow-map-start",
  "flow-seq-start",
  "seq-item-ind",
  "explicit-key-ind",
  "alias",
]);

/** `10000` → `10,000` (toLocaleString would load ICU data on first use: ~80 ms on the event loop). */
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ",");

/**
 * Tokenises and parses `content` in one pass, refusing the file as soon as it holds more than
 * `maxNodes` nodes, so a huge flat mapping costs at most `maxNodes` tokens before it is refused.
 */
function composeBounded(content: string, file: string, counter: LineCounter): Document {
  const parser = new Parser(counter.addNewLine);
  counter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let nodes = 0;
  for (const lexeme of new Lexer().lex(content)) {
    if (NODE_TOKENS.has(CST.tokenType(lexeme)) && ++nodes > YAML_LIMITS.maxNodes) {
      throwProblems(file, [formatProblem(file, counter.lineStarts.length, [], `more than ${count(YAML_LIMITS.maxNodes)} YAML nodes (keys, values and list items); the limit is ${count(YAML_LIMITS.maxNodes)}`)]);
    }
    for (const token of parser.next(lexeme)) tokens.push(token);
  }
  for (const token of parser.end()) tokens.push(token);
  // Duplicate keys are checked below with a Set: the library's own check is quadratic in the keys of a mapping.
  const docs = [...new Composer({ uniqueKeys: false, prettyErrors: false, strict: true }).compose(tokens, true, content.length)];
  const [doc, extra] = docs;
  if (!doc) throwProblems(file, [formatProblem(file, undefined, [], "cannot be parsed")]);
  if (extra) throwProblems(file, [`${file}:${counter.linePos(extra.range[0]).line}: only one YAML document per file is accepted (found a second one after ---)`]);
  return doc;
}

/** The tag as the user wrote it, from the library's "Unresolved tag: tag:yaml.org,2002:js/function". */
function tagOf(message: string): string {
  const tag = /Unresolved tag: (\S+)/.exec(message)?.[1] ?? "";
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;
}

/** Duplicate keys, oversized mappings and aliases, in one walk over the document. */
function checkStructure(doc: Document, file: string, counter: LineCounter): string[] {
  const problems: string[] = [];
  let aliases = 0;
  visit(doc, {
    Map(_, map: YAMLMap) {
      if (map.items.length > YAML_LIMITS.maxKeysPerMapping) {
        const first = map.items[YAML_LIMITS.maxKeysPerMapping] as Pair | undefined;
        problems.push(`${file}:${nodeLine(first?.key as Node, counter) ?? nodeLine(map, counter) ?? 1}: a mapping with ${count(map.items.length)} keys; the limit is ${count(YAML_LIMITS.maxKeysPerMapping)} keys per mapping`);
        return visit.BREAK;
      }
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) problems.push(`${file}:${nodeLine(pair.key, counter) ?? 1}: duplicate key "${key}" (map keys must be unique)`);
        seen.add(key);
      }
      return problems.length > YAML_LIMITS.maxProblems ? visit.BREAK : undefined;
    },
    Alias() {
      aliases++;
      return aliases > YAML_LIMITS.maxAliases ? visit.BREAK : undefined;
    },
  });
  if (aliases > YAML_LIMITS.maxAliases) problems.push(formatProblem(file, 1, [], `more than ${YAML_LIMITS.maxAliases} YAML aliases (*refs) are not accepted`));
  return problems;
}

/**
 * Parses YAML safely. Throws a ConfigError (never hangs, never a bare exception) for oversized files,
 * too many nodes or keys, syntax errors, duplicate keys, unknown tags (`!!js/function`,
 * `!!python/object`, any custom tag), alias bombs and excessive nesting. Cost is linear in the size
 * of the file and bounded by YAML_LIMITS.
 *
 * @example
 * const { value, lineOf } = parseYaml(text, ".github/octoflow.yml");
 */
export function parseYaml(content: string, file: string): ParsedYaml {
  if (typeof content !== "string") throwProblems(file, [formatProblem(file, undefined, [], "file content is not text")]);
  preflight(content, file);
  const counter = new LineCounter();
  let doc: Document;
  try {
    doc = composeBounded(content, file, counter);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throwProblems(file, [formatProblem(file, undefined, [], error instanceof RangeError ? "nesting is too deep to parse" : `cannot be parsed (${(error as Error).message})`)]);
  }
  // An unresolved tag is only a warning to the library (the value would silently become a string).
  const unknownTags = doc.warnings.filter((w) => w.code === "TAG_RESOLVE_FAILED");
  const errors = [...doc.errors, ...unknownTags].sort((a, b) => a.pos[0] - b.pos[0]);
  if (errors.length > 0) {
    throwProblems(
      file,
      errors.map((e) => {
        const line = counter.linePos(e.pos[0]).line;
        const message =
          e.code === "TAG_RESOLVE_FAILED"
            ? `unknown YAML tag ${tagOf(e.message)}: tags are not accepted, write plain data`
            : /call stack/i.test(e.message)
              ? "nesting is too deep to parse"
              : (e.message.split("\n")[0] ?? e.code);
        return `${file}:${line}: ${message}`;
      }),
    );
  }
  const structural = checkStructure(doc, file, counter);
  if (structural.length > 0) throwProblems(file, structural);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliases });
  } catch (error) {
    const message = error instanceof ReferenceError ? "YAML aliases expand too much (alias bomb refused)" : `cannot be read (${(error as Error).message})`;
    throwProblems(file, [formatProblem(file, 1, [], message)]);
  }
  return { file, value, lineOf: makeLineOf(doc, counter) };
}

type Issue = z.core.$ZodIssue;

function deepest(branches: Issue[][]): Issue[] | undefined {
  let best: Issue[] | undefined;
  let bestDepth = 0;
  for (const branch of branches) {
    const depth = Math.max(0, ...branch.map((i) => i.path.length));
    if (depth > bestDepth) {
      best = branch;
      bestDepth = depth;
    }
  }
  return best;
}

function flatten(issues: readonly Issue[], prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string; keys?: string[] }[] {
  const out: { path: PropertyKey[]; message: string; keys?: string[] }[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      out.push({ path, message: "unknown key (check the spelling)", keys: issue.keys });
    } else if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const branch = deepest(issue.errors);
      if (branch) out.push(...flatten(branch, path));
      else {
        const expected = [...new Set(issue.errors.flat().map((i) => (i.code === "invalid_type" ? i.expected : undefined)).filter(Boolean))];
        out.push({ path, message: expected.length > 0 ? `Invalid input: expected ${expected.join(" or ")}` : issue.message });
      }
    } else out.push({ path, message: issue.message });
  }
  return out;
}

/** Turns zod issues into `file:line: key.path: message` lines, ordered by line. */
export function zodProblems(error: z.ZodError, parsed: Pick<ParsedYaml, "file" | "lineOf">): string[] {
  const located: { line: number; text: string }[] = [];
  for (const item of flatten(error.issues)) {
    for (const path of item.keys ? item.keys.map((k) => [...item.path, k]) : [item.path]) {
      const line = parsed.lineOf(path);
      located.push({ line: line ?? 0, text: formatProblem(parsed.file, line, path, item.message) });
    }
  }
  return located.sort((a, b) => a.line - b.line).map((p) => p.text);
}

/**
 * Parses YAML and validates it with a zod schema, throwing one ConfigError with every problem.
 * `emptyValue` is used when the file is empty or only comments.
 */
export function parseYamlWithSchema<S extends z.ZodType>(schema: S, content: string, file: string, options: { emptyValue?: unknown } = {}): z.output<S> {
  const parsed = parseYaml(content, file);
  const value = parsed.value ?? options.emptyValue;
  const result = schema.safeParse(value);
  if (!result.success) throwProblems(file, zodProblems(result.error, parsed));
  return result.data;
}
