/** A working in-memory `RepoReader` for tests: files per ref, a diff, and a thread. */
import type { RepoReader } from "../../../src/workflows/ports.ts";

export interface InMemoryRepo {
  files: Record<string, string>;
  diff?: string;
  thread?: { title: string; body: string; comments: { author: string; body: string }[] };
  truncated?: boolean;
}

export function createInMemoryRepoReader(repo: InMemoryRepo): RepoReader & { reads: string[]; diffCalls: { number: number; sinceSha?: string }[] } {
  const reads: string[] = [];
  const diffCalls: { number: number; sinceSha?: string }[] = [];
  return {
    reads,
    diffCalls,
    async listFiles() {
      return { paths: Object.keys(repo.files).sort(), truncated: repo.truncated ?? false };
    },
    async readFile(path) {
      reads.push(path);
      return Object.hasOwn(repo.files, path) ? repo.files[path] : undefined;
    },
    async pullRequestDiff(number, options) {
      diffCalls.push({ number, ...(options?.sinceSha ? { sinceSha: options.sinceSha } : {}) });
      if (repo.diff === undefined) throw new Error("no diff");
      return repo.diff;
    },
    async thread() {
      return repo.thread ?? { title: "", body: "", comments: [] };
    },
  };
}
