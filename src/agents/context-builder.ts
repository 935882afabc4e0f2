/**
 * Builds the repository context of one step within a token budget: the issue / PR thread, the
 * diff (split per file, clipped), the file tree and the relevant files. Everything read from the
 * repository or written by users is fenced as untrusted data, and what did not fit is named.
 */
import type { RepoReader } from "../workflows/ports.ts";
import type { Trigger } from "../workflows/types.ts";
import { estimateTokens, fenceUntrusted } from "../workflows/untrusted-text.ts";

export type ContextFocus = "edits" | "findings" | "text";

export interface ContextOptions {
  trigger: Trigger;
  reader: RepoReader;
  /** What the role produces: reviews get more diff, edits get more files. */
  focus: ContextFocus;
  /** Total budget for the context in (estimated) tokens. */
  budgetTokens: number;
  /** Extra text searched for file names (e.g. the step prompt). */
  hints?: string;
  /** Most files read in full (default 8). */
  maxFiles?: number;
}

export interface BuiltContext {
  /** The context section of the user prompt. */
  text: string;
  /** Human-readable list of what was left out (also named inside `text`). */
  omitted: string[];
  estimatedTokens: number;
  /** The ref files were read at. */
  ref: string;
  /** Repository paths in play: named in the thread or the prompt, or changed by the pull request. */
  files: string[];
}

/**
 * Builds the context. Reader failures for optional parts (tree, files) are named as omissions
 * instead of failing the step.
 *
 * @example
 * const ctx = await buildContext({ trigger, reader, focus: "findings", budgetTokens: 24_000 });
 */
export async function buildContext(options: ContextOptions): Promise<BuiltContext> {
  const { trigger, reader, focus } = options;
  const ref = trigger.pullRequest?.headSha ?? trigger.repo.defaultBranch;
  const omitted: string[] = [];
  const sections: string[] = [];
  const total = Math.max(500, options.budgetTokens);
  const share = focus === "findings" ? { thread: 0.2, diff: 0.55, tree: 0.05 } : focus === "edits" ? { thread: 0.25, diff: 0.2, tree: 0.1 } : { thread: 0.35, diff: 0.25, tree: 0.1 };
  let used = 0;

  sections.push(`## Repository ${trigger.repo.owner}/${trigger.repo.name} (ref ${ref})`);

  // 1. thread
  const kind = trigger.isPullRequest ? "pull request" : "issue";
  const thread = await reader.thread(trigger.number).catch(() => undefined);
  const title = thread?.title ?? trigger.issue?.title ?? "";
  const body = thread?.body ?? trigger.issue?.body ?? "";
  if (thread === undefined && !trigger.issue) omitted.push(`the ${kind} thread (could not be read)`);
  {
    const budget = Math.floor(total * share.thread);
    const head = fenceUntrusted(`${kind} #${trigger.number} title and body`, clipChars(`${title}\n\n${body}`, budget * 4 * 0.6, omitted, `part of the ${kind} body`));
    const parts = [`### ${capitalise(kind)} #${trigger.number}`, head];
    let left = budget - estimateTokens(head);
    const comments = thread?.comments ?? [];
    const kept: string[] = [];
    let dropped = 0;
    for (let i = comments.length - 1; i >= 0; i--) {
      const c = comments[i];
      if (!c) continue;
      const fenced = fenceUntrusted(`comment by @${c.author}`, c.body);
      const cost = estimateTokens(fenced);
      if (cost > left) {
        dropped = i + 1;
        break;
      }
      left -= cost;
      kept.push(fenced);
    }
    if (dropped > 0) omitted.push(`${dropped} older comment${dropped === 1 ? "" : "s"} of the ${kind}`);
    if (kept.length > 0) parts.push(`Comments (oldest first${dropped > 0 ? `, ${dropped} older left out` : ""}):`, ...kept.reverse());
    const text = parts.join("\n");
    used += estimateTokens(text);
    sections.push(text);
  }

  // 2. diff, split per file
  const changedPaths: string[] = [];
  if (trigger.isPullRequest) {
    const diff = await reader
      .pullRequestDiff(trigger.number, trigger.pullRequest?.sinceSha ? { sinceSha: trigger.pullRequest.sinceSha } : undefined)
      .catch(() => undefined);
    if (diff === undefined) omitted.push("the diff (could not be read)");
    else {
      const budget = Math.floor(total * share.diff);
      const files = splitDiff(diff);
      const kept: string[] = [];
      const left: string[] = [];
      let remaining = budget;
      for (const file of files) {
        changedPaths.push(file.path);
        const cost = estimateTokens(file.text) + 20;
        if (cost <= remaining) {
          kept.push(fenceUntrusted(`diff of ${file.path}`, file.text));
          remaining -= cost;
        } else if (remaining > 300 && kept.length === 0) {
          const clipped = file.text.slice(0, (remaining - 20) * 4);
          kept.push(fenceUntrusted(`diff of ${file.path} (clipped)`, `${clipped}\n… [clipped: ${file.text.length - clipped.length} more characters]`));
          omitted.push(`the rest of the diff of ${file.path}`);
          remaining = 0;
        } else {
          left.push(file.path);
        }
      }
      if (left.length > 0) omitted.push(`the diff of ${left.length} file${left.length === 1 ? "" : "s"}: ${left.slice(0, 30).join(", ")}${left.length > 30 ? ", …" : ""}`);
      const scope = trigger.pullRequest?.sinceSha ? ` (changes since ${trigger.pullRequest.sinceSha.slice(0, 7)})` : "";
      const text = [`### Diff${scope}: ${files.length} file${files.length === 1 ? "" : "s"}`, ...kept].join("\n");
      used += estimateTokens(text);
      sections.push(text);
    }
  }

  // 3. file tree
  const listing = await reader.listFiles(ref).catch(() => undefined);
  const paths = listing?.paths ?? [];
  if (!listing) omitted.push("the file tree (could not be read)");
  else {
    const budget = Math.floor(total * share.tree);
    const lines: string[] = [];
    let cost = 0;
    for (const p of paths) {
      const c = estimateTokens(p) + 1;
      if (cost + c > budget) break;
      cost += c;
      lines.push(p);
    }
    const cut = paths.length - lines.length;
    if (cut > 0) omitted.push(`${cut} of ${paths.length} paths of the file tree`);
    if (listing.truncated) omitted.push("part of the file tree (the repository listing was truncated)");
    const text = `### File tree (${paths.length}${listing.truncated ? "+" : ""} files)\n${fenceUntrusted("file tree", lines.join("\n"))}`;
    used += estimateTokens(text);
    sections.push(text);
  }

  // 4. relevant files: named in the thread / prompt / diff and present in the tree
  const known = new Set(paths);
  const mentioned = mentionedPaths(`${title}\n${body}\n${(thread?.comments ?? []).map((c) => c.body).join("\n")}\n${options.hints ?? ""}`, known);
  const candidates = unique([...(focus === "findings" ? changedPaths : []), ...mentioned, ...(focus === "findings" ? [] : changedPaths)]).filter((p) => known.has(p) || changedPaths.includes(p));
  const maxFiles = options.maxFiles ?? 8;
  const fileParts: string[] = [];
  let remaining = total - used - 200;
  const skipped: string[] = [];
  for (const path of candidates) {
    if (fileParts.length >= maxFiles) {
      skipped.push(path);
      continue;
    }
    const content = await reader.readFile(path, ref).catch(() => undefined);
    if (content === undefined) continue;
    const fenced = fenceUntrusted(`file ${path}`, content);
    const cost = estimateTokens(fenced);
    if (cost > remaining) {
      skipped.push(path);
      continue;
    }
    remaining -= cost;
    fileParts.push(fenced);
  }
  if (skipped.length > 0) omitted.push(`the content of ${skipped.length} relevant file${skipped.length === 1 ? "" : "s"}: ${skipped.slice(0, 20).join(", ")}`);
  if (fileParts.length > 0) sections.push(`### Relevant files (at ${ref})`, ...fileParts);

  if (omitted.length > 0) sections.push(`### Left out to stay within the context budget\n${omitted.map((o) => `- ${o}`).join("\n")}`);
  const text = sections.join("\n\n");
  return { text, omitted, estimatedTokens: estimateTokens(text), ref, files: candidates };
}

/** One file's part of a unified diff. */
export interface DiffFile {
  path: string;
  text: string;
}

/** Splits a unified (git) diff at `diff --git` headers. */
export function splitDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  const chunks = diff.split(/^(?=diff --git )/m).filter((c) => c.trim() !== "");
  for (const chunk of chunks) {
    const header = /^diff --git a\/(.+?) b\/(.+)$/m.exec(chunk);
    const plus = /^\+\+\+ b\/(.+)$/m.exec(chunk);
    const path = plus?.[1] ?? header?.[2] ?? "(unknown file)";
    files.push({ path: path.trim(), text: chunk.trimEnd() });
  }
  return files;
}

/**
 * Paths of `known` named in `text`: exactly, or by a file name that ends exactly one known path
 * (`greet.ts` → `src/greet.ts`). Linear in the text plus the tree, so a hostile issue body full of
 * file-like words over a 100k-file tree costs one pass over each, not their product.
 */
export function mentionedPaths(text: string, known: ReadonlySet<string>): string[] {
  const candidates = new Set<string>();
  const pattern = /(?:^|[\s`'"([])((?:[\w.-]+\/)*[\w.-]+\.[A-Za-z0-9]{1,8})(?=$|[\s`'"),:\]])/gm;
  for (const match of text.matchAll(pattern)) {
    const candidate = match[1]?.replace(/^\.\//, "");
    if (candidate) candidates.add(candidate);
  }
  const found: string[] = [];
  let bySuffix: Map<string, string[]> | undefined;
  for (const candidate of candidates) {
    if (known.has(candidate)) {
      found.push(candidate);
      continue;
    }
    bySuffix ??= suffixIndex(known);
    const hits = bySuffix.get(candidate);
    if (hits?.length === 1 && hits[0]) found.push(hits[0]);
  }
  return unique(found);
}

/** Every proper path suffix (`b/c.ts`, `c.ts` of `a/b/c.ts`) → the paths ending with it (at most 2 kept: enough to tell unique from ambiguous). */
function suffixIndex(paths: ReadonlySet<string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const path of paths) {
    for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) {
      const suffix = path.slice(slash + 1);
      const list = index.get(suffix);
      if (!list) index.set(suffix, [path]);
      else if (list.length < 2) list.push(path);
    }
  }
  return index;
}

function clipChars(text: string, maxChars: number, omitted: string[], what: string): string {
  const max = Math.max(200, Math.floor(maxChars));
  if (text.length <= max) return text;
  omitted.push(what);
  return `${text.slice(0, max)}\n… [clipped: ${text.length - max} more characters]`;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
