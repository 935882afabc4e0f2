/**
 * The in-memory store's job index: a binary min-heap ordered like SQLite's `jobs_available` index
 * (`available_at`, then `seq`), so a claim looks at the top instead of scanning every job.
 *
 * A job's key changes when it is claimed, renewed, released or enqueued earlier. Rather than
 * re-sifting inside the heap, every change pushes a fresh entry and bumps the job's `version`; entries
 * whose version is stale (or whose job is gone) are dropped when they reach the top. The heap is
 * rebuilt from the live jobs when stale entries outnumber them, so its size stays O(jobs).
 */

export interface IndexedJob {
  /** `runAt` while waiting, `leaseUntil` while leased: one key finds the next claimable job. */
  availableAt: number;
  seq: number;
  /** Bumped on every key change; heap entries carrying an older version are stale. */
  version: number;
  /** False once the job is deleted: its entries are stale. */
  live: boolean;
}

interface Entry<J extends IndexedJob> {
  job: J;
  availableAt: number;
  seq: number;
  version: number;
}

export interface JobIndex<J extends IndexedJob> {
  /** Indexes a new job, or re-indexes one whose `availableAt` the caller just changed. */
  touch(job: J): void;
  /** The live job with the smallest (availableAt, seq) if it is available at `now`, without removing it. */
  peekAvailable(now: number): J | undefined;
  /** Number of heap entries (live and stale), for tests of the bound. */
  size(): number;
}

const before = <J extends IndexedJob>(a: Entry<J>, b: Entry<J>) => a.availableAt < b.availableAt || (a.availableAt === b.availableAt && a.seq < b.seq);

/**
 * @param liveJobs returns the jobs currently stored (used to rebuild the heap without stale entries)
 */
export function createJobIndex<J extends IndexedJob>(liveJobs: () => Iterable<J>, liveCount: () => number): JobIndex<J> {
  let heap: Entry<J>[] = [];

  const up = (index: number) => {
    const entry = heap[index] as Entry<J>;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const above = heap[parent] as Entry<J>;
      if (!before(entry, above)) break;
      heap[index] = above;
      index = parent;
    }
    heap[index] = entry;
  };
  const down = (index: number) => {
    const entry = heap[index] as Entry<J>;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right] as Entry<J>, heap[left] as Entry<J>) ? right : left;
      const below = heap[child] as Entry<J>;
      if (!before(below, entry)) break;
      heap[index] = below;
      index = child;
    }
    heap[index] = entry;
  };
  const pop = () => {
    const last = heap.pop();
    if (last && heap.length > 0) {
      heap[0] = last;
      down(0);
    }
  };
  const isStale = (entry: Entry<J>) => !entry.job.live || entry.version !== entry.job.version;
  const rebuild = () => {
    heap = [];
    for (const job of liveJobs()) heap.push({ job, availableAt: job.availableAt, seq: job.seq, version: job.version });
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  };

  return {
    touch(job) {
      job.version += 1;
      heap.push({ job, availableAt: job.availableAt, seq: job.seq, version: job.version });
      up(heap.length - 1);
      if (heap.length > 2 * liveCount() + 64) rebuild();
    },
    peekAvailable(now) {
      for (;;) {
        const top = heap[0];
        if (!top) return undefined;
        if (isStale(top)) {
          pop();
          continue;
        }
        return top.availableAt <= now ? top.job : undefined;
      }
    },
    size: () => heap.length,
  };
}
