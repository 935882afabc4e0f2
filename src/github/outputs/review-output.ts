/**
 * `review` output: one pull-request review per run. Findings on lines of the diff become inline
 * comments (with a ```suggestion block when the finding carries a fix); findings elsewhere are
 * listed in the review body. Every finding is fingerprinted (path, side, the text of its line,
 * its body) and remembered per pull request, so nothing is said twice across pushes; on a push, only
 * the lines the push changed get inline comments, and earlier findings are settled (fixed → resolved,
 * dismissed by a person → their line is not commented on again).
 */
import { createHash } from "node:crypto";
import type { Finding, RunRecord } from "../../workflows/types.ts";
import type { OutputDeps } from "./pull-request-output.ts";
import { scrubSecrets } from "../../observability/logger.ts";
import { neutralizeMarkdown } from "../../progress/neutralize-markdown.ts";
import { changedByPush, lineText, parsePatch, placeInDiff, type FileDiff, type Placement } from "./diff-map.ts";
import { findingKey, findingSpotKey, reviewedShaKey, reviewMarkerKey } from "../../store/marker-keys.ts";
import { settleEarlierFindings, suppressionKey, type FindingSpot } from "./finding-lifecycle.ts";
import { pushDiff } from "./push-diff.ts";

/** At most this many inline comments per review; the rest go to the body. */
export const MAX_INLINE_COMMENTS = 50;
const MAX_FILES = 3000;

export interface ReviewResult {
  url?: string;
  /** New findings posted (inline + body). */
  posted: number;
  inline: number;
  /** Findings skipped because an earlier review already said them. */
  repeated: number;
}

const SEVERITY = { critical: "🔴 critical", major: "🟠 major", minor: "🟡 minor", info: "🔵 info" } as const;

/** Stable identity of a finding across pushes (line numbers shift; the line's text does not). */
export function fingerprint(finding: Finding, text: string): string {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
  return createHash("sha256")
    .update([finding.path, finding.side, norm(text), norm(finding.body), norm(finding.suggestion ?? "")].join("\u0000"))
    .digest("hex")
    .slice(0, 16);
}

function commentBody(finding: Finding, fp: string, withSuggestion: boolean): string {
  const parts = [`**${SEVERITY[finding.severity]}** ${neutralizeMarkdown(finding.body)}`];
  if (withSuggestion && finding.suggestion !== undefined) {
    // The suggestion is committed verbatim when accepted: never rewritten (secrets aside), fenced longer than any backtick run in it.
    const suggestion = scrubSecrets(finding.suggestion).replace(/\n$/, "");
    const fence = "`".repeat(Math.max(3, ...[...suggestion.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    parts.push("", `${fence}suggestion`, suggestion, fence);
  }
  parts.push("", `<!-- octoflow:fp:${fp} -->`);
  return parts.join("\n");
}

/**
 * Whether the placed comment spans exactly the lines the finding meant. A range narrowed to its end
 * line (its start lies in another hunk) must not carry a suggestion: it would replace the wrong lines.
 */
function coversFinding(finding: Finding, placement: Placement): boolean {
  if (finding.startLine === undefined || finding.startLine === finding.line) return true;
  return placement.startLine === finding.startLine;
}

async function diffFiles(deps: OutputDeps, owner: string, repo: string, pull: number): Promise<Map<string, FileDiff>> {
  const files = new Map<string, FileDiff>();
  for await (const response of deps.octokit.paginate.iterator(deps.octokit.rest.pulls.listFiles, { owner, repo, pull_number: pull, per_page: 100 })) {
    for (const f of response.data) if (f.patch) files.set(f.filename, parsePatch(f.filename, f.patch));
    if (files.size >= MAX_FILES) break;
  }
  return files;
}

/** Texts of the diff lines a placed comment covers (its range, or its line). */
function placedTexts(files: Map<string, FileDiff>, placement: Placement): string[] {
  const texts: string[] = [];
  for (let n = placement.startLine ?? placement.line; n <= placement.line; n++) texts.push(lineText(files, { ...placement, line: n }));
  return texts;
}

/**
 * Posts the run's review (once per run; a second call for the same run does nothing).
 *
 * On a push (`trigger.pullRequest.sinceSha`, the SHA the previous review covered), inline comments go
 * only on lines the pushed commits changed (the compare diff `sinceSha...head`); findings on other
 * lines of the pull request's diff are listed in the body. On a pull request reviewed before, the
 * earlier findings are settled first (`finding-lifecycle.ts`): fixed ones resolved, dismissed lines
 * suppressed; a finding on a suppressed line is not raised.
 *
 * @param texts summaries of the review steps, shown at the top of the review body
 */
export async function publishReview(deps: OutputDeps, run: RunRecord, findings: Finding[], texts: string[]): Promise<ReviewResult | undefined> {
  const { owner, name: repo } = run.trigger.repo;
  const pull = run.trigger.number;
  if (!run.trigger.isPullRequest) return undefined;
  const reviewKey = reviewMarkerKey(run.id);
  const existing = await deps.store.getMarker(reviewKey);
  if (existing) return { url: existing, posted: 0, inline: 0, repeated: 0 };

  const headSha = run.trigger.pullRequest?.headSha ?? (await deps.octokit.rest.pulls.get({ owner, repo, pull_number: pull })).data.head.sha;
  const files = await diffFiles(deps, owner, repo, pull);
  const sinceSha = run.trigger.pullRequest?.sinceSha;
  const push = sinceSha !== undefined && sinceSha !== headSha ? await pushDiff(deps, owner, repo, sinceSha, headSha) : undefined;
  const where = { owner, repo, pull };
  const fingerprints = findings.map((finding) => fingerprint(finding, lineText(files, finding)));
  if (sinceSha !== undefined || (await deps.store.getMarker(reviewedShaKey(owner, repo, pull))) !== undefined) {
    await settleEarlierFindings(deps, { ...where, ...(push ? { push } : {}), current: new Set(fingerprints) });
  }

  const comments: { path: string; line: number; side: "LEFT" | "RIGHT"; start_line?: number; start_side?: "LEFT" | "RIGHT"; body: string }[] = [];
  const spots = new Map<string, FindingSpot>();
  const elsewhere: string[] = [];
  const fresh: string[] = [];
  let repeated = 0;
  const seen = new Set<string>();
  for (const [i, finding] of findings.entries()) {
    const text = lineText(files, finding);
    const fp = fingerprints[i] ?? fingerprint(finding, text);
    const suppressed = suppressionKey(where, finding.path, finding.side, text);
    if (
      seen.has(fp) ||
      (await deps.store.getMarker(findingKey(owner, repo, pull, fp))) !== undefined ||
      (suppressed !== undefined && (await deps.store.getMarker(suppressed)) !== undefined)
    ) {
      repeated++;
      continue;
    }
    seen.add(fp);
    fresh.push(fp);
    const inDiff = comments.length < MAX_INLINE_COMMENTS ? placeInDiff(files, finding) : undefined;
    // On a push, only what the push changed gets an inline comment: older lines were reviewed before.
    const placement = inDiff && (!push || changedByPush(push.files, finding, text)) ? inDiff : undefined;
    if (placement) {
      comments.push({
        path: placement.path,
        line: placement.line,
        side: placement.side,
        ...(placement.startLine === undefined ? {} : { start_line: placement.startLine, start_side: placement.side }),
        body: commentBody(finding, fp, placement.side === "RIGHT" && coversFinding(finding, placement)),
      });
      const { path, line, side, startLine } = placement;
      spots.set(fp, { path, side, line, ...(startLine === undefined ? {} : { startLine }), sha: headSha, text, lines: placedTexts(files, placement) });
    } else {
      const at = `\`${finding.path}:${finding.startLine !== undefined ? `${finding.startLine}-` : ""}${finding.line}\``;
      elsewhere.push(`${neutralizeMarkdown(`- ${at} **${SEVERITY[finding.severity]}** ${finding.body.replace(/\n+/g, " ")}`)} <!-- octoflow:fp:${fp} -->`);
    }
  }
  if (repeated > 0) deps.metrics?.findings.inc({ outcome: "repeated_suppressed" }, repeated);
  const summary = neutralizeMarkdown(texts.filter((t) => t.trim() !== "").join("\n\n"));
  // Nothing new to say: no review (and no marker, so a retried run can still post one).
  if (fresh.length === 0 && (summary === "" || repeated > 0)) return { posted: 0, inline: 0, repeated };
  const body = [
    `<!-- octoflow:review:${run.id} -->`,
    `**Octoflow review** (${run.workflow}): ${fresh.length} new finding${fresh.length === 1 ? "" : "s"}${repeated ? `, ${repeated} already reported earlier` : ""}.`,
    ...(summary ? ["", summary.slice(0, 20_000)] : []),
    ...(elsewhere.length > 0 ? ["", push ? "**Not on lines this push changed:**" : "**Outside the diff:**", "", ...elsewhere] : []),
  ].join("\n");
  const { data } = await deps.octokit.rest.pulls.createReview({ owner, repo, pull_number: pull, commit_id: headSha, event: "COMMENT", body: body.slice(0, 65_000), comments });
  for (const fp of fresh) {
    await deps.store.setMarker(findingKey(owner, repo, pull, fp), String(run.id));
    const spot = spots.get(fp);
    if (spot) await deps.store.setMarker(findingSpotKey(owner, repo, pull, fp), JSON.stringify(spot));
  }
  await deps.store.setMarker(reviewKey, data.html_url);
  if (fresh.length > 0) deps.metrics?.findings.inc({ outcome: "raised" }, fresh.length);
  return { url: data.html_url, posted: fresh.length, inline: comments.length, repeated };
}
