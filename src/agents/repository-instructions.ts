/**
 * Repository instructions for agents, read from the DEFAULT BRANCH only (a pull request cannot
 * instruct the bot): `AGENTS.md` (root and nested: the ones on the way from the root to each file
 * in play apply, the nearest last), `CLAUDE.md`, `.github/copilot-instructions.md`,
 * `.github/instructions/**\/*.instructions.md` (applied where their `applyTo` globs match a file in
 * play) and any extra files named in `.github/octoflow.yml`. Size-capped; every file used is named.
 */
import { parse as parseYaml } from "yaml";
import type { RepoReader } from "../workflows/ports.ts";
import { globMatcher } from "./tools/workspace-path.ts";

export interface RepositoryInstructions {
  /** The instruction files that apply when these repository paths are in play, in prompt order. */
  filesFor(paths: readonly string[]): string[];
  /** The system-prompt section for these paths ("" when no file applies). */
  promptFor(paths: readonly string[]): string;
}

export interface InstructionOptions {
  reader: Pick<RepoReader, "listFiles" | "readFile">;
  /** Instructions are read at this ref only. */
  defaultBranch: string;
  /** Further files (repository paths) that always apply (`instructions.files` of the repo config). */
  extraFiles?: readonly string[];
  /** Characters kept of one file (default 8,000). */
  maxFileChars?: number;
  /** Characters of all instructions in one prompt (default 24,000); files past it are named as left out. */
  maxTotalChars?: number;
}

interface InstructionFile {
  path: string;
  content: string;
  /** `always`; `dir`: an AGENTS.md for paths under `dir`; `glob`: an .instructions.md with applyTo. */
  scope: { kind: "always" } | { kind: "dir"; dir: string } | { kind: "glob"; match: (path: string) => boolean; globs: string };
}

/** Most instruction files read (a monorepo with more AGENTS.md files keeps the shallowest). */
const MAX_FILES = 60;

/**
 * Lists and reads the instruction files of the default branch.
 *
 * @example
 * const instructions = await loadRepositoryInstructions({ reader, defaultBranch: "main" });
 * system += instructions.promptFor(["packages/web/src/app.ts"]);
 */
export async function loadRepositoryInstructions(options: InstructionOptions): Promise<RepositoryInstructions> {
  const { reader, defaultBranch } = options;
  const maxFileChars = options.maxFileChars ?? 8_000;
  const maxTotalChars = options.maxTotalChars ?? 24_000;
  const listing = await reader.listFiles(defaultBranch);
  const known = new Set(listing.paths);
  const agents = listing.paths
    .filter((p) => p === "AGENTS.md" || p.endsWith("/AGENTS.md"))
    .sort((a, b) => a.split("/").length - b.split("/").length || (a < b ? -1 : 1))
    .slice(0, MAX_FILES);
  const scoped = listing.paths.filter((p) => /^\.github\/instructions\/(?:.+\/)?[^/]+\.instructions\.md$/.test(p)).sort().slice(0, 20);
  const always = ["CLAUDE.md", ".github/copilot-instructions.md", ...(options.extraFiles ?? [])].filter((p, i, all) => known.has(p) && all.indexOf(p) === i && !agents.includes(p));

  const files: InstructionFile[] = [];
  const read = async (path: string) => {
    const content = await reader.readFile(path, defaultBranch).catch(() => undefined);
    return content?.trim() ? content : undefined;
  };
  for (const path of agents) {
    const content = await read(path);
    const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    if (content) files.push({ path, content: clip(content, maxFileChars), scope: { kind: "dir", dir } });
  }
  for (const path of always) {
    const content = await read(path);
    if (content) files.push({ path, content: clip(content, maxFileChars), scope: { kind: "always" } });
  }
  for (const path of scoped) {
    const content = await read(path);
    if (!content) continue;
    const { applyTo, body } = frontMatter(content);
    if (applyTo.length === 0 || !body.trim()) continue;
    const matchers = applyTo.map(globMatcher);
    files.push({ path, content: clip(body, maxFileChars), scope: { kind: "glob", match: (p) => matchers.some((m) => m(p)), globs: applyTo.join(", ") } });
  }

  const applicable = (paths: readonly string[]): InstructionFile[] => {
    const dirs = new Set<string>([""]);
    for (const p of paths) {
      const parts = p.split("/").slice(0, -1);
      for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
    }
    return files.filter((f) => (f.scope.kind === "always" ? true : f.scope.kind === "dir" ? dirs.has(f.scope.dir) : paths.some((p) => (f.scope as { match: (p: string) => boolean }).match(p))));
  };
  const fitting = (paths: readonly string[]) => {
    const used: InstructionFile[] = [];
    const left: string[] = [];
    let total = 0;
    // the root AGENTS.md, the always-files, nested AGENTS.md from the root down (nearest last), then glob-scoped ones
    const order = (f: InstructionFile) => (f.scope.kind === "dir" ? (f.scope.dir === "" ? 0 : 2) : f.scope.kind === "always" ? 1 : 3);
    for (const f of applicable(paths).sort((a, b) => order(a) - order(b))) {
      if (total + f.content.length > maxTotalChars) left.push(f.path);
      else {
        used.push(f);
        total += f.content.length;
      }
    }
    return { used, left };
  };
  return {
    filesFor: (paths) => fitting(paths).used.map((f) => f.path),
    promptFor(paths) {
      const { used, left } = fitting(paths);
      if (used.length === 0) return "";
      const parts = [
        "## Repository instructions",
        "The maintainers of this repository wrote these files for agents (read from the default branch). Follow them where they do not conflict with the rules above; where two disagree, the one for the more specific folder wins.",
      ];
      for (const f of used) {
        const scope = f.scope.kind === "dir" ? (f.scope.dir ? ` (applies under ${f.scope.dir}/)` : " (applies to the whole repository)") : f.scope.kind === "glob" ? ` (applies to ${f.scope.globs})` : "";
        parts.push(`### ${f.path}${scope}\n${f.content}`);
      }
      if (left.length > 0) parts.push(`(Left out to stay within the size limit: ${left.join(", ")})`);
      return parts.join("\n\n");
    },
  };
}

/** The `applyTo` globs of an `.instructions.md` front matter, and the body after it. */
export function frontMatter(content: string): { applyTo: string[]; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(content);
  if (!match) return { applyTo: [], body: content };
  let data: unknown;
  try {
    data = parseYaml(match[1] ?? "");
  } catch {
    return { applyTo: [], body: content.slice(match[0].length) };
  }
  const raw = (data as { applyTo?: unknown } | null)?.applyTo;
  const list = typeof raw === "string" ? raw.split(",") : Array.isArray(raw) ? raw.filter((g): g is string => typeof g === "string") : [];
  return { applyTo: list.map((g) => g.trim()).filter(Boolean).slice(0, 50), body: content.slice(match[0].length) };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text.trim() : `${text.slice(0, max).trim()}\n… [clipped: ${text.length - max} more characters]`;
}
