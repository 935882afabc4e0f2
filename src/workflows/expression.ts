import { ExpressionError } from "../errors/expression-error.ts";
/**
 * The `if:` condition language: a tiny, safe expression language parsed at load time.
 *
 *   expr    := or
 *   or      := and ('||' and)*
 *   and     := unary ('&&' unary)*
 *   unary   := '!' unary | compare
 *   compare := primary (('==' | '!=') primary)?
 *   primary := '(' expr ')' | 'string' | "string" | number | true | false | null | name('.'name)*
 *
 * Names: `inputs.<x>`, `steps.<id>.status`, `trigger.kind`, `trigger.actor`, `pr.draft`,
 * `pr.from_fork`. There are no function calls, no property access on values, no code execution.
 * Comparisons are by string value (`inputs.count == 3` compares "3" with "3").
 * A wrapping `${{ … }}` is accepted and ignored.
 */

export type Expr =
  | { kind: "literal"; value: string | number | boolean | null }
  | { kind: "ref"; path: string[] }
  | { kind: "not"; operand: Expr }
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "eq" | "ne"; left: Expr; right: Expr };

type Token = { type: "op" | "str" | "num" | "name" | "end"; text: string; value?: string | number; pos: number };

const MAX_DEPTH = 32;
const MAX_LENGTH = 500;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] ?? "";
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (two === "==" || two === "!=" || two === "&&" || two === "||") {
      tokens.push({ type: "op", text: two, pos: i });
      i += 2;
    } else if (ch === "!" || ch === "(" || ch === ")") {
      tokens.push({ type: "op", text: ch, pos: i });
      i++;
    } else if (ch === "'" || ch === '"') {
      const end = source.indexOf(ch, i + 1);
      if (end === -1) throw new ExpressionError(`unterminated string starting at column ${i + 1}`, i);
      tokens.push({ type: "str", text: source.slice(i, end + 1), value: source.slice(i + 1, end), pos: i });
      i = end + 1;
    } else if (/[0-9]/.test(ch) || (ch === "-" && /[0-9]/.test(source[i + 1] ?? ""))) {
      const match = /^-?\d+(\.\d+)?/.exec(source.slice(i));
      const text = match?.[0] ?? ch;
      tokens.push({ type: "num", text, value: Number(text), pos: i });
      i += text.length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*/.exec(source.slice(i));
      const text = match?.[0] ?? ch;
      tokens.push({ type: "name", text, pos: i });
      i += text.length;
    } else {
      throw new ExpressionError(`unexpected character "${ch}" at column ${i + 1}`, i);
    }
  }
  tokens.push({ type: "end", text: "end of expression", pos: source.length });
  return tokens;
}

/** Strips an optional `${{ … }}` wrapper. */
function unwrap(source: string): string {
  const match = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(source);
  return match?.[1] ?? source;
}

/**
 * Parses a condition. Throws ExpressionError with a message naming the column.
 *
 * @example
 * const expr = parseCondition("inputs.docs != 'false' && !pr.draft");
 */
export function parseCondition(source: string): Expr {
  const text = unwrap(source);
  if (text.length > MAX_LENGTH) throw new ExpressionError(`condition is longer than ${MAX_LENGTH} characters`, 0);
  if (text.trim() === "") throw new ExpressionError("condition is empty", 0);
  const tokens = tokenize(text);
  let index = 0;
  let depth = 0;
  const peek = (): Token => tokens[index] ?? { type: "end", text: "end of expression", pos: text.length };
  const next = (): Token => {
    const token = peek();
    index++;
    return token;
  };
  const enter = (pos: number) => {
    if (++depth > MAX_DEPTH) throw new ExpressionError(`condition nests deeper than ${MAX_DEPTH} levels`, pos);
  };

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (peek().text === "||" && peek().type === "op") {
      next();
      left = { kind: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseUnary();
    while (peek().text === "&&" && peek().type === "op") {
      next();
      left = { kind: "and", left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    const token = peek();
    if (token.type === "op" && token.text === "!") {
      next();
      enter(token.pos);
      const operand = parseUnary();
      depth--;
      return { kind: "not", operand };
    }
    return parseCompare();
  };
  const parseCompare = (): Expr => {
    const left = parsePrimary();
    const token = peek();
    if (token.type === "op" && (token.text === "==" || token.text === "!=")) {
      next();
      return { kind: token.text === "==" ? "eq" : "ne", left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): Expr => {
    const token = next();
    switch (token.type) {
      case "str":
      case "num":
        return { kind: "literal", value: token.value ?? "" };
      case "name":
        if (token.text === "true" || token.text === "false") return { kind: "literal", value: token.text === "true" };
        if (token.text === "null") return { kind: "literal", value: null };
        return { kind: "ref", path: token.text.split(".") };
      case "op":
        if (token.text === "(") {
          enter(token.pos);
          const inner = parseOr();
          depth--;
          const close = next();
          if (close.text !== ")") throw new ExpressionError(`expected ")" at column ${close.pos + 1}, found ${describe(close)}`, close.pos);
          return inner;
        }
        throw new ExpressionError(`unexpected ${describe(token)} at column ${token.pos + 1}`, token.pos);
      default:
        throw new ExpressionError(`the condition ends too early (expected a value at column ${token.pos + 1})`, token.pos);
    }
  };

  const expr = parseOr();
  const rest = peek();
  if (rest.type !== "end") throw new ExpressionError(`unexpected ${describe(rest)} at column ${rest.pos + 1}`, rest.pos);
  return expr;
}

function describe(token: Token): string {
  return token.type === "end" ? "end of expression" : `"${token.text}"`;
}

/** Every name the expression reads, as paths (`["steps", "generate", "status"]`). */
export function conditionRefs(expr: Expr): string[][] {
  switch (expr.kind) {
    case "literal":
      return [];
    case "ref":
      return [expr.path];
    case "not":
      return conditionRefs(expr.operand);
    default:
      return [...conditionRefs(expr.left), ...conditionRefs(expr.right)];
  }
}

/** Values a condition can see. */
export interface ConditionScope {
  inputs: Readonly<Record<string, string>>;
  steps: Readonly<Record<string, { status: string }>>;
  trigger: { kind: string; actor: string };
  pr: { draft: boolean; from_fork: boolean };
}

/**
 * Checks the names an expression reads; returns problems (empty when fine).
 * `upstream` are the step ids whose status is known when the condition runs.
 */
export function checkConditionRefs(expr: Expr, known: { inputs: ReadonlySet<string>; upstream: ReadonlySet<string> }): string[] {
  const problems: string[] = [];
  for (const path of conditionRefs(expr)) {
    const name = path.join(".");
    const [head, second, third] = path;
    if (head === "inputs" && path.length === 2 && second !== undefined) {
      if (!known.inputs.has(second)) problems.push(`"${name}" is not a declared input (declare it under inputs:)`);
    } else if (head === "steps" && path.length === 3 && second !== undefined && third === "status") {
      if (!known.upstream.has(second)) problems.push(`"${name}": step "${second}" must be listed in needs (directly or through another step) to be read here`);
    } else if (!["trigger.kind", "trigger.actor", "pr.draft", "pr.from_fork"].includes(name)) {
      problems.push(`unknown name "${name}" (use inputs.<name>, steps.<id>.status, trigger.kind, trigger.actor, pr.draft or pr.from_fork)`);
    }
  }
  return problems;
}

type Value = string | number | boolean | null | undefined;

function lookup(path: string[], scope: ConditionScope): Value {
  const [head, second, third] = path;
  if (head === "inputs" && second !== undefined) return Object.hasOwn(scope.inputs, second) ? scope.inputs[second] : undefined;
  if (head === "steps" && second !== undefined && third === "status") return Object.hasOwn(scope.steps, second) ? scope.steps[second]?.status : undefined;
  if (head === "trigger" && second === "kind") return scope.trigger.kind;
  if (head === "trigger" && second === "actor") return scope.trigger.actor;
  if (head === "pr" && second === "draft") return scope.pr.draft;
  if (head === "pr" && second === "from_fork") return scope.pr.from_fork;
  return undefined;
}

function truthy(value: Value): boolean {
  if (typeof value === "string") return value !== "" && value !== "false" && value !== "0";
  if (typeof value === "number") return value !== 0;
  return value === true;
}

const text = (value: Value): string => (value === null || value === undefined ? "" : String(value));

function value(expr: Expr, scope: ConditionScope): Value {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "ref":
      return lookup(expr.path, scope);
    case "not":
      return !truthy(value(expr.operand, scope));
    case "and":
      return truthy(value(expr.left, scope)) && truthy(value(expr.right, scope));
    case "or":
      return truthy(value(expr.left, scope)) || truthy(value(expr.right, scope));
    case "eq":
      return text(value(expr.left, scope)) === text(value(expr.right, scope));
    case "ne":
      return text(value(expr.left, scope)) !== text(value(expr.right, scope));
  }
}

/**
 * Evaluates a parsed condition. Never throws on valid input.
 *
 * @example
 * evaluateCondition(parseCondition("!pr.draft"), scope); // true for a ready PR
 */
export function evaluateCondition(expr: Expr, scope: ConditionScope): boolean {
  return truthy(value(expr, scope));
}
