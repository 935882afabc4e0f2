/**
 * A throw-away checkout of a run's change: the runner's own checkout copied into a temporary folder
 * (everything but `.git`, so installed dependencies and build outputs come along), with the files the
 * run's upstream steps changed written over it. The runner's checkout itself is never touched.
 *
 * `node_modules` folders are hard-linked file by file instead of copied (a copy of a JavaScript
 * project's dependencies is most of the time a command step takes): the copy's paths stay real
 * folders, so module resolution, watchers and `realpath` see an ordinary tree. Only a command that
 * rewrites an installed file in place would reach the checkout's file; package managers and caches
 * write new files.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { copyFile, cp, link, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { normalizePath } from "../workspace/workspace-paths.ts";
import type { FileChange } from "../workflows/types.ts";

const run = promisify(execFile);

/** Folders hard-linked rather than copied. */
const LINKED_FOLDERS = new Set(["node_modules"]);
/** Links made at once while hard-linking a folder. */
const LINK_CONCURRENCY = 64;

export interface PreparedCheckout {
  /** The temporary folder the command runs in. */
  dir: string;
  /** Removes the folder. */
  dispose(): Promise<void>;
}

/**
 * The commit checked out in `dir` (`git rev-parse HEAD`), or undefined when `dir` is no Git checkout.
 *
 * @example
 * await checkoutHead(process.cwd()); // "4f2a…"
 */
export async function checkoutHead(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", ["-C", dir, "rev-parse", "HEAD"], { timeout: 10_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Recreates the tree `from` at `to` with hard links to its files (a copy where a link is refused, e.g.
 * across file systems), real folders, and symbolic links as they are.
 */
async function linkTree(from: string, to: string): Promise<void> {
  const files: [string, string][] = [];
  const walk = async (src: string, dest: string): Promise<void> => {
    await mkdir(dest, { recursive: true });
    for (const entry of await readdir(src, { withFileTypes: true })) {
      const s = join(src, entry.name);
      const d = join(dest, entry.name);
      if (entry.isDirectory()) await walk(s, d);
      else if (entry.isSymbolicLink()) await symlink(await readlink(s), d);
      else if (entry.isFile()) files.push([s, d]);
    }
  };
  await walk(from, to);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const [s, d] = files[next++] as [string, string];
      await link(s, d).catch(() => copyFile(s, d));
    }
  };
  await Promise.all(Array.from({ length: Math.min(LINK_CONCURRENCY, files.length) }, worker));
}

/** The absolute target of `path` under `root`; refuses a path that a symbolic link leads out of `root`. */
async function targetIn(root: string, path: string): Promise<string> {
  const relative = normalizePath(path);
  const target = join(root, ...relative.split("/"));
  await mkdir(dirname(target), { recursive: true });
  const parent = await realpath(dirname(target));
  if (parent !== root && !parent.startsWith(root + sep)) throw new Error(`${relative}: a symbolic link in the checkout leads outside it`);
  // never write through a link (symbolic, or a hard link into the checkout): the file replaces it
  const existing = await lstat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) await unlink(target);
  return target;
}

/**
 * Copies `source` (minus `.git`) into a new temporary folder and applies `changes` (`content: null`
 * deletes). The caller disposes of it.
 *
 * @example
 * const checkout = await prepareCheckout(process.cwd(), [{ path: "src/sum.ts", content: "…" }]);
 * try { await runCommand({ command: "npm test", cwd: checkout.dir, … }); } finally { await checkout.dispose(); }
 */
export async function prepareCheckout(source: string, changes: readonly FileChange[], options: { tmpRoot?: string; /** Absolute paths not copied (Octoflow's own database and snapshot cache). */ exclude?: readonly string[] } = {}): Promise<PreparedCheckout> {
  const excluded = new Set(options.exclude ?? []);
  const dir = await realpath(await mkdtemp(join(options.tmpRoot ?? tmpdir(), "octoflow-checkout-")));
  const dispose = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    const linked: string[] = [];
    await cp(source, dir, {
      recursive: true,
      verbatimSymlinks: true,
      // a copy-on-write clone where the file system offers one, a plain copy elsewhere
      mode: constants.COPYFILE_FICLONE,
      filter: async (from) => {
        const name = basename(from);
        if (name === ".git" || excluded.has(from)) return false;
        if (LINKED_FOLDERS.has(name) && (await lstat(from)).isDirectory()) {
          linked.push(from);
          return false;
        }
        return true;
      },
    });
    for (const from of linked) await linkTree(from, join(dir, relative(source, from)));
    for (const change of changes) {
      const target = await targetIn(dir, change.path);
      if (change.content === null) await rm(target, { force: true });
      else await writeFile(target, change.content);
    }
    return { dir, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
