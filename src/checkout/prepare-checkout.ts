/**
 * A throw-away checkout of a run's change: the runner's own checkout copied into a temporary folder
 * (everything but `.git`, so installed dependencies and build outputs come along), with the files the
 * run's upstream steps changed written over it. The runner's checkout itself is never touched.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, realpath, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, sep } from "node:path";
import { promisify } from "node:util";
import { normalizePath } from "../workspace/workspace-paths.ts";
import type { FileChange } from "../workflows/types.ts";

const run = promisify(execFile);

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

/** The absolute target of `path` under `root`; refuses a path that a symbolic link leads out of `root`. */
async function targetIn(root: string, path: string): Promise<string> {
  const relative = normalizePath(path);
  const target = join(root, ...relative.split("/"));
  await mkdir(dirname(target), { recursive: true });
  const parent = await realpath(dirname(target));
  if (parent !== root && !parent.startsWith(root + sep)) throw new Error(`${relative}: a symbolic link in the checkout leads outside it`);
  // never write through a link: the file replaces it
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) await unlink(target);
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
    await cp(source, dir, {
      recursive: true,
      verbatimSymlinks: true,
      // a copy-on-write clone where the file system offers one, a plain copy elsewhere
      mode: constants.COPYFILE_FICLONE,
      filter: (from) => basename(from) !== ".git" && !excluded.has(from),
    });
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
