/**
 * The port through which the workspace reads a repository (GitHub's REST API in the app, a local
 * fake in tests). Implemented by `src/github/repository-source.ts`.
 */
import type { Trigger } from "../workflows/types.ts";

export type ArchiveResult =
  | { ok: true; body: AsyncIterable<Uint8Array> }
  /** Why there is no archive (e.g. "HTTP 404"): the workspace falls back to lazy reads. */
  | { ok: false; reason: string };

export interface RepositorySource {
  /**
   * The commit a new run works from: the pull request's head for a PR, the head of the bot's existing
   * branch for the issue on a re-run, else the default branch's head.
   */
  resolveBase(trigger: Trigger): Promise<string>;
  /** The commit's gzip tarball as a byte stream (GitHub's `tarball/{ref}`, redirects followed). */
  archive(sha: string, signal?: AbortSignal): Promise<ArchiveResult>;
  /**
   * Paths of the files (blobs) of the commit's tree, those of them that are executable, and
   * `truncated` when GitHub cut the listing.
   */
  tree(sha: string): Promise<{ paths: string[]; executable: string[]; truncated: boolean }>;
  /** A file's bytes at the commit, or undefined when it does not exist. */
  file(sha: string, path: string): Promise<Uint8Array | undefined>;
}
