/**
 * Where the CLI and the Action find the repository's checkout for command steps (DESIGN D15): the
 * Git checkout around the working directory when one of its remotes is the repository, a folder given
 * with `--checkout`, or the Action's `GITHUB_WORKSPACE`.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { CheckoutInputs } from "../compose/compose-core.ts";

const git = promisify(execFile);

/** True when a remote URL (`https://github.com/acme/api.git`, `git@github.com:acme/api`) names `owner/name`. */
export function remoteNames(url: string, owner: string, name: string): boolean {
  const path = url.trim().replace(/\/+$/, "").replace(/\.git$/i, "");
  return path.toLowerCase().endsWith(`${owner}/${name}`.toLowerCase()) && /[/:]$/.test(path.slice(0, path.length - owner.length - name.length - 1));
}

async function toplevel(dir: string): Promise<string | undefined> {
  try {
    return (await git("git", ["-C", dir, "rev-parse", "--show-toplevel"], { timeout: 10_000 })).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The checkout for a run on `owner/name`: `{ dir }`, or `{ missing }` saying why there is none.
 * An `explicit` folder (`--checkout`, `GITHUB_WORKSPACE`) must be a Git checkout; the working directory
 * must also have a remote naming the repository (so a clone of another repository is never used).
 *
 * @example
 * await findCheckout({ dir: process.cwd(), owner: "acme", name: "api", explicit: false }); // { dir: "/home/me/api" }
 */
export async function findCheckout(options: { dir: string; owner: string; name: string; explicit: boolean; what?: string }): Promise<Pick<CheckoutInputs, "dir" | "missing">> {
  const what = options.what ?? options.dir;
  const top = await toplevel(options.dir);
  if (!top) return { dir: undefined, missing: `${what} is not a Git checkout of ${options.owner}/${options.name}` };
  if (options.explicit) return { dir: top };
  const remotes = await git("git", ["-C", top, "remote", "-v"], { timeout: 10_000 }).then(
    ({ stdout }) => stdout.split("\n").map((line) => line.split(/\s+/)[1] ?? "").filter(Boolean),
    () => [] as string[],
  );
  if (remotes.some((url) => remoteNames(url, options.owner, options.name))) return { dir: top };
  return { dir: undefined, missing: `${top} is not a clone of ${options.owner}/${options.name} (no remote names it): run octoflow in a clone of the repository, or pass --checkout DIR` };
}
