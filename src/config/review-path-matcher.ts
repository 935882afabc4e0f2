/**
 * Matching changed files against `review.paths` globs from a repository's config. The globs are
 * untrusted: they are compiled by picomatch (braces become alternations, never an expansion, so
 * `{1..100000}` costs nothing) and run in a worker thread with a deadline, because a compiled glob is
 * a backtracking regular expression (`*a*a*a*a*b` against a long name takes seconds). Past the
 * deadline the worker is terminated and the caller gets a ConfigError naming the limit; the event
 * loop never waits on a glob.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { ConfigError } from "../errors/config-error.ts";

/** How long matching one pull request's files may take. */
export const GLOB_MATCH_TIMEOUT_MS = 2_000;

export interface ReviewPaths {
  include: readonly string[];
  exclude: readonly string[];
}

// CommonJS on purpose: the worker runs plain JavaScript, whatever loads this module.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const picomatch = require(workerData.picomatch);
parentPort.once("message", ({ paths, include, exclude }) => {
  try {
    const options = { dot: true };
    const excluded = exclude.length > 0 ? picomatch(exclude, options) : () => false;
    const included = include.length > 0 ? picomatch(include, options) : () => true;
    let count = 0;
    for (const path of paths) if (!excluded(path) && included(path)) count++;
    parentPort.postMessage({ count });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
});
`;

const picomatchPath = createRequire(import.meta.url).resolve("picomatch");

/**
 * How many of `paths` count for the review under `review.paths` (exclude wins; an empty include
 * means all). Throws a ConfigError when the globs are invalid or take longer than `timeoutMs`.
 *
 * @example
 * const n = await countReviewPaths(["src/a.ts", "docs/x.md"], { include: ["src/**"], exclude: [] }); // 1
 */
export async function countReviewPaths(paths: readonly string[], globs: ReviewPaths, options: { timeoutMs?: number } = {}): Promise<number> {
  if (globs.include.length === 0 && globs.exclude.length === 0) return paths.length;
  const timeoutMs = options.timeoutMs ?? GLOB_MATCH_TIMEOUT_MS;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { picomatch: picomatchPath } });
  worker.unref();
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new ConfigError(
            `review.paths: matching the globs against the changed files took longer than ${timeoutMs / 1000} s (the limit); simplify the patterns (fewer * in one name)`,
          ),
        );
      }, timeoutMs);
      worker.once("message", (answer: { count?: number; error?: string }) => {
        clearTimeout(timer);
        if (answer.error !== undefined) reject(new ConfigError(`review.paths: a glob cannot be compiled (${answer.error})`));
        else resolve(answer.count ?? 0);
      });
      worker.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      worker.postMessage({ paths: [...paths], include: [...globs.include], exclude: [...globs.exclude] });
    });
  } finally {
    await worker.terminate();
  }
}
