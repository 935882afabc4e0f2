/**
 * The keys of the store's markers (`RunStore.getMarker` / `putMarkerIfAbsent` / `setMarker`), one
 * function per kind of marker. Every key a marker is written or read under comes from here, so two
 * modules cannot disagree on a spelling and a new kind cannot collide with an old one.
 *
 * The strings are persisted: changing one orphans the markers already stored under the old spelling
 * (a resumed run would open a second pull request, post a review twice…). Add kinds; never rename.
 *
 * | prefix | value | written by |
 * |---|---|---|
 * | `checkrun:` | check run id | check run reporter |
 * | `checkrun:…:completed` | check run id last completed | check run reporter |
 * | `comment:` | sticky comment id | sticky comment reporter |
 * | `codegen-run:` | Codegen agent run id to resume | agent runner |
 * | `refused:` | first refusal (time:uuid) | permission gate |
 * | `reviewed:` | last head SHA a review covered | outputs |
 * | `branch:` | the bot's branch for an issue / PR | pull request output |
 * | `commit:` | the step's commit SHA and tree SHA (older markers: the run id) | pull request output |
 * | `workspace-base:` | the run's base commit SHA | workspace |
 * | `pr:` | pull request number opened for a branch | pull request output |
 * | `review:` | URL of the review a run posted | review output |
 * | `fp:` | run id that posted a finding (by fingerprint) | review output |
 * | `fp-spot:` | where an inline finding sits (path, side, line texts; JSON) | review output |
 * | `fp-fixed:` | head SHA whose push fixed a finding (its thread resolved or answered) | finding lifecycle |
 * | `fp-suppressed:` | why findings on a line are no longer raised (👎, resolved by a person) | finding lifecycle |
 * | `approval-refused:` | first refused approval (time:uuid) | approval gates |
 * | `reply:` | URL of the answer to a review request | review reply output |
 * | `autofix:` | the delivery that took an autofix slot / head, or the limit notice | CI autofix trigger |
 * | `wake:` | when an event came for a run that was still parking ("" once handled) | engine (`wakeKey` in `src/workflows/park-run.ts`: the engine does not import the store's adapters' folder) |
 */

/** The check run opened for a run; value: the check run id. */
export function checkRunMarkerKey(runId: string): string {
  return `checkrun:${runId}`;
}

/** The check run id a run's last completion was written to (a retry re-opens the run). */
export function checkRunCompletedKey(runId: string): string {
  return `checkrun:${runId}:completed`;
}

/** The run's sticky comment; value: the comment id. */
export function commentMarkerKey(runId: string): string {
  return `comment:${runId}`;
}

/** The Codegen agent run a conversation resumes; `contextKey` is `contextKeyOf(trigger)`. */
export function codegenRunKey(contextKey: string): string {
  return `codegen-run:${contextKey}`;
}

/** Set once the refusal notice was posted for this actor on this issue / PR (posted once). */
export function refusalNoticeKey(owner: string, repo: string, number: number, login: string): string {
  return `refused:${owner}/${repo}#${number}:${login.toLowerCase()}`;
}

/** The last head SHA a review run covered on a pull request. */
export function reviewedShaKey(owner: string, repo: string, pull: number): string {
  return `reviewed:${owner}/${repo}#${pull}`;
}

/** The branch the bot works on for an issue or pull request number; value: the branch name. */
export function workBranchKey(owner: string, repo: string, number: number): string {
  return `branch:${owner}/${repo}#${number}`;
}

/**
 * A step's changes were committed; value: `<commit sha> <tree sha>` (markers written before the
 * workspace hold the run id). Guards against committing them twice on resume.
 */
export function stepCommitKey(runId: string, stepId: string): string {
  return `commit:${runId}:${stepId}`;
}

/** The pull request opened for the bot's branch; value: its number. */
export function pullRequestKey(owner: string, repo: string, branch: string): string {
  return `pr:${owner}/${repo}:${branch}`;
}

/** The review a run posted; value: the review URL. */
export function reviewMarkerKey(runId: string): string {
  return `review:${runId}`;
}

/** A review finding (by fingerprint) already posted on a pull request; value: the run id. */
export function findingKey(owner: string, repo: string, pull: number, fingerprint: string): string {
  return `fp:${owner}/${repo}#${pull}:${fingerprint}`;
}

/**
 * Where an inline finding (by fingerprint) sits on a pull request; value: JSON `FindingSpot`
 * (path, side, text of its line and of its range's lines), read to tell whether a push fixed it.
 */
export function findingSpotKey(owner: string, repo: string, pull: number, fingerprint: string): string {
  return `fp-spot:${owner}/${repo}#${pull}:${fingerprint}`;
}

/** A finding a push fixed, its thread resolved or answered once; value: the head SHA of that push. */
export function findingFixedKey(owner: string, repo: string, pull: number, fingerprint: string): string {
  return `fp-fixed:${owner}/${repo}#${pull}:${fingerprint}`;
}

/**
 * Findings on one line are not raised again on this pull request (a person 👎'd or resolved one);
 * `subject` hashes path, side and the line's text. Value: the reason.
 */
export function findingSuppressedKey(owner: string, repo: string, pull: number, subject: string): string {
  return `fp-suppressed:${owner}/${repo}#${pull}:${subject}`;
}

/** The commit a run's workspace is based on, recorded when first needed; value: the SHA. */
export function workspaceBaseKey(runId: string): string {
  return `workspace-base:${runId}`;
}

/** Set once a refused approval from the check run's button was answered for this user and step (answered once). */
export function approvalRefusedKey(runId: string, stepId: string, login: string): string {
  return `approval-refused:${runId}:${stepId}:${login.toLowerCase()}`;
}

/** The answer a run posted to the review request that started it (thread reply or PR comment); value: its URL. */
export function reviewReplyKey(runId: string): string {
  return `reply:${runId}`;
}

/** The `slot`-th (1-based) CI autofix run of a pull request; value: the delivery that took it. */
export function autofixSlotKey(owner: string, repo: string, pull: number, slot: number): string {
  return `autofix:${owner}/${repo}#${pull}:run:${slot}`;
}

/** The CI autofix of one head commit of a pull request (one per head); value: the delivery that took it. */
export function autofixHeadKey(owner: string, repo: string, pull: number, sha: string): string {
  return `autofix:${owner}/${repo}#${pull}:head:${sha}`;
}

/** Set once the "autofix reached its limit" notice was posted on a pull request. */
export function autofixLimitKey(owner: string, repo: string, pull: number): string {
  return `autofix:${owner}/${repo}#${pull}:limit`;
}
