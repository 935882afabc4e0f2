/**
 * Findings that live and die. Before a review run posts on a pull request Octoflow reviewed before,
 * the threads of its earlier inline findings are read (`review-threads.ts`) and each is settled once:
 *
 * - **fixed** by this push: the new run did not raise the same finding (its fingerprint) and the push
 *   rewrote the finding's lines — when the finding was posted on the previously reviewed SHA, a line of
 *   its range is among the lines the push removed (the compare diff's old side numbers that SHA's
 *   lines); when it is older, a removed line has the text of one of its lines; a deleted file fixes
 *   all. Its thread is resolved (GraphQL), or answered "Fixed in <sha>." where GraphQL is unavailable.
 * - **dismissed** by a person: the thread was resolved by someone (not by Octoflow, not by an app)
 *   without Octoflow finding it fixed, or a person reacted 👎 to the finding. The finding's line is
 *   suppressed: no finding on a line with that path, side and text is raised again in this pull request
 *   (a line whose text changes is a new line).
 *
 * Every decision is a marker (`fp-fixed:` per fingerprint, `fp-suppressed:` per line), so nothing is
 * resolved, answered or counted twice. A finding posted before `fp-spot:` markers existed is left alone.
 */
import { createHash } from "node:crypto";
import { findingFixedKey, findingKey, findingSpotKey, findingSuppressedKey } from "../../store/marker-keys.ts";
import type { OutputDeps } from "./pull-request-output.ts";
import type { PushDiff } from "./push-diff.ts";
import { closeFixedThread, findingThreads, hasThumbsDown } from "./review-threads.ts";

/** Where an inline finding was posted (the `fp-spot:` marker's value). */
export interface FindingSpot {
  path: string;
  side: "LEFT" | "RIGHT";
  line: number;
  startLine?: number;
  /** Head SHA of the review that posted it: the numbering of `line`. */
  sha: string;
  /** Text of the finding's line, and of every line of its range. */
  text: string;
  lines: string[];
}

export interface SettledFindings {
  /** Threads resolved or answered as fixed by this push. */
  resolved: number;
  /** Lines newly suppressed (a person resolved or 👎'd a finding on them). */
  suppressed: number;
}

/** At most this many 👎 look-ups (one request each) per review run. */
export const MAX_REACTION_CHECKS = 100;

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

/**
 * The identity of a line a finding sits on: path, side and the line's text (not its number, which a
 * push shifts). Undefined for a blank or unknown line, which identifies nothing.
 */
export function findingSubject(path: string, side: "LEFT" | "RIGHT", text: string): string | undefined {
  if (norm(text) === "") return undefined;
  return createHash("sha256").update([path, side, norm(text).toLowerCase()].join("\u0000")).digest("hex").slice(0, 16);
}

/** The suppression marker's key for a finding on this line, if the line identifies one. */
export function suppressionKey(where: { owner: string; repo: string; pull: number }, path: string, side: "LEFT" | "RIGHT", text: string): string | undefined {
  const subject = findingSubject(path, side, text);
  return subject === undefined ? undefined : findingSuppressedKey(where.owner, where.repo, where.pull, subject);
}

/** Whether the push rewrote the lines of an earlier finding (see the module comment). */
export function fixedByPush(push: PushDiff, spot: FindingSpot): boolean {
  if (spot.side !== "RIGHT") return false;
  if (push.removed.has(spot.path)) return true;
  const file = push.files.get(spot.path);
  if (!file) return false;
  if (spot.sha === push.sinceSha) {
    for (let n = Math.min(spot.startLine ?? spot.line, spot.line); n <= spot.line; n++) if (file.removed.has(n)) return true;
    return false;
  }
  const texts = new Set(spot.lines.map(norm).filter((t) => t !== ""));
  return [...file.removed].some((n) => texts.has(norm(file.leftText.get(n) ?? "")));
}

function parseSpot(value: string | undefined): FindingSpot | undefined {
  if (value === undefined) return undefined;
  try {
    const spot = JSON.parse(value) as Partial<FindingSpot>;
    if (typeof spot.path !== "string" || typeof spot.line !== "number" || typeof spot.sha !== "string" || typeof spot.text !== "string" || !Array.isArray(spot.lines)) return undefined;
    return spot as FindingSpot;
  } catch {
    return undefined;
  }
}

/**
 * Settles the earlier findings of this pull request (see the module comment). `current` holds the
 * fingerprints the new run found; `push` is the diff of the push under review, when there is one.
 *
 * @example
 * await settleEarlierFindings(deps, { owner, repo, pull, push, current: new Set(fingerprints) });
 */
export async function settleEarlierFindings(
  deps: OutputDeps,
  ctx: { owner: string; repo: string; pull: number; push?: PushDiff; current: ReadonlySet<string> },
): Promise<SettledFindings> {
  const { owner, repo, pull, push } = ctx;
  const { store } = deps;
  const settled: SettledFindings = { resolved: 0, suppressed: 0 };
  const suppress = async (key: string | undefined, reason: string) => {
    if (key === undefined || (await store.getMarker(key)) !== undefined) return;
    await store.setMarker(key, reason);
    settled.suppressed++;
  };
  let reactionChecks = 0;
  const { threads } = await findingThreads(deps, owner, repo, pull);
  for (const thread of threads) {
    const fp = thread.fingerprint;
    // Ours only: a marker copied into someone else's comment names no finding Octoflow posted here.
    if ((await store.getMarker(findingKey(owner, repo, pull, fp))) === undefined) continue;
    if ((await store.getMarker(findingFixedKey(owner, repo, pull, fp))) !== undefined) continue;
    const spot = parseSpot(await store.getMarker(findingSpotKey(owner, repo, pull, fp)));
    if (!spot) continue;
    const key = suppressionKey(ctx, spot.path, spot.side, spot.text);
    if (thread.isResolved === true) {
      // Not resolved by Octoflow (no fp-fixed marker): a person dismissed it, unless an app did.
      if (thread.resolvedBy !== undefined && !thread.resolvedBy.endsWith("[bot]")) await suppress(key, `resolved by ${thread.resolvedBy}`);
      continue;
    }
    if (push && !ctx.current.has(fp) && fixedByPush(push, spot)) {
      const how = await closeFixedThread(deps, thread, { owner, repo, pull, sha: push.headSha });
      await store.setMarker(findingFixedKey(owner, repo, pull, fp), push.headSha);
      deps.metrics?.findings.inc({ outcome: "resolved" });
      deps.log.info({ fingerprint: fp, how, sha: push.headSha }, "a finding was fixed by the push");
      settled.resolved++;
      continue;
    }
    if (key !== undefined && reactionChecks < MAX_REACTION_CHECKS && (await store.getMarker(key)) === undefined) {
      reactionChecks++;
      if (await hasThumbsDown(deps, owner, repo, thread.commentId)) await suppress(key, "👎");
    }
  }
  return settled;
}
