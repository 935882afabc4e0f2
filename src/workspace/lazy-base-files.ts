/**
 * Lazy base files: the archive was unavailable or too large, so the file list comes from the
 * recursive tree (one request) and each file from the contents API when first read (cached). Search
 * can only cover the files read so far; `notice()` says so.
 */
import { toBaseFile, type BaseFile, type BaseFiles } from "./base-files.ts";
import type { RepositorySource } from "./repository-source.ts";

/**
 * @param reason why the archive was not used (shown to the model), e.g. "the archive answered HTTP 404"
 */
export function createLazyBaseFiles(source: RepositorySource, sha: string, reason: string): BaseFiles {
  let tree: Promise<{ paths: string[]; executable: Set<string> }> | undefined;
  const files = new Map<string, Promise<BaseFile | undefined>>();
  const read = new Set<string>();
  let truncated = false;
  const listing = () =>
    (tree ??= source.tree(sha).then(
      (t) => {
        truncated = t.truncated;
        return { paths: [...t.paths].sort(), executable: new Set(t.executable) };
      },
      (error: unknown) => {
        tree = undefined;
        throw error;
      },
    ));
  return {
    sha,
    mode: "lazy",
    notice() {
      const incomplete = truncated ? " The file list is incomplete (GitHub truncated the tree)." : "";
      return `Lazy workspace: ${reason}, so files are read one at a time from GitHub and search covers only the ${read.size} file${read.size === 1 ? "" : "s"} read so far (plus files changed in this run); read a file before searching it.${incomplete}`;
    },
    async paths() {
      return (await listing()).paths;
    },
    read(path) {
      let file = files.get(path);
      if (!file) {
        file = source.file(sha, path).then(
          (bytes) => {
            if (bytes === undefined) return undefined;
            read.add(path);
            return toBaseFile(bytes);
          },
          (error: unknown) => {
            files.delete(path);
            throw error;
          },
        );
        files.set(path, file);
      }
      return file;
    },
    async modeOf(path) {
      const t = await listing();
      if (t.executable.has(path)) return "100755";
      return t.paths.includes(path) ? "100644" : undefined;
    },
    searchable() {
      return Promise.resolve([...read].sort());
    },
  };
}
