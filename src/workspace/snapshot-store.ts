/**
 * Where base files come from, cheapest first: memory (recent snapshots, LRU by bytes), the disk cache
 * (one file per commit under the data directory, LRU eviction past a size cap), the repository archive
 * (fetched once, then cached), and lazy reads when the archive is unavailable or over the size cap.
 * Concurrent loads of one commit share a single fetch.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { createSnapshotFiles, type BaseFiles, type SnapshotEntry } from "./base-files.ts";
import { createLazyBaseFiles } from "./lazy-base-files.ts";
import { readArchive } from "./read-archive.ts";
import type { RepositorySource } from "./repository-source.ts";

export interface SnapshotStoreOptions {
  /** Disk cache folder (e.g. `<data dir>/snapshots`); without it snapshots live in memory only. */
  dir?: string;
  /** Disk cache size cap; the least recently used snapshots are deleted past it (default 2 GB). */
  maxDiskBytes?: number;
  /** Largest repository (sum of file sizes) taken as a snapshot; larger ones are read lazily (default 200 MB). */
  maxArchiveBytes?: number;
  /** Snapshots kept in memory, by bytes (default 512 MB). */
  maxMemoryBytes?: number;
  log?: Pick<Logger, "info" | "warn">;
}

export interface SnapshotStore {
  /**
   * The base files of `sha` in the repository `repoKey` (`owner/name`).
   * With `archive: false` nothing is downloaded: a cached snapshot or lazy reads.
   */
  load(repoKey: string, sha: string, source: RepositorySource, options?: { archive?: boolean }): Promise<BaseFiles>;
}

const MAGIC = Buffer.from("OFSNAP1\n");

/**
 * @example
 * const snapshots = createSnapshotStore({ dir: "./data/snapshots" });
 * const base = await snapshots.load("octo/app", sha, source);
 */
export function createSnapshotStore(options: SnapshotStoreOptions = {}): SnapshotStore {
  const maxDisk = options.maxDiskBytes ?? 2_000_000_000;
  const maxArchive = options.maxArchiveBytes ?? 200_000_000;
  const maxMemory = options.maxMemoryBytes ?? 512_000_000;
  const memory = new Map<string, { files: BaseFiles; bytes: number }>();
  const loading = new Map<string, Promise<BaseFiles>>();
  let memoryBytes = 0;

  const remember = (key: string, files: BaseFiles, bytes: number) => {
    const old = memory.get(key);
    if (old) memoryBytes -= old.bytes;
    memory.delete(key);
    memory.set(key, { files, bytes });
    memoryBytes += bytes;
    for (const [k, v] of memory) {
      if (memoryBytes <= maxMemory || memory.size <= 1) break;
      memory.delete(k);
      memoryBytes -= v.bytes;
    }
  };

  const fileOf = (key: string) => (options.dir ? join(options.dir, `${key.replace(/[^A-Za-z0-9._-]/g, "_")}.snap`) : undefined);

  const fromDisk = async (key: string, sha: string): Promise<BaseFiles | undefined> => {
    const file = fileOf(key);
    if (!file) return undefined;
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      return undefined;
    }
    const entries = decodeSnapshot(data);
    if (!entries) {
      await rm(file, { force: true });
      return undefined;
    }
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    const files = createSnapshotFiles(sha, entries);
    remember(key, files, files.bytes);
    return files;
  };

  const toDisk = async (key: string, entries: SnapshotEntry[], bytes: number) => {
    const file = fileOf(key);
    if (!file || !options.dir || bytes > maxDisk) return;
    try {
      await mkdir(options.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeSnapshot(tmp, entries);
      await rename(tmp, file);
      await evict(options.dir, maxDisk, file);
    } catch (error) {
      options.log?.warn({ err: error }, "could not write the snapshot to the disk cache");
    }
  };

  const fetchSnapshot = async (key: string, sha: string, source: RepositorySource, archive: boolean): Promise<BaseFiles> => {
    const cached = await fromDisk(key, sha);
    if (cached) return cached;
    let reason = "the snapshot was not fetched";
    if (archive) {
      const response = await source.archive(sha);
      if (response.ok) {
        const read = await readArchive(response.body, { maxBytes: maxArchive });
        if (read.ok) {
          const files = createSnapshotFiles(sha, read.entries);
          remember(key, files, files.bytes);
          await toDisk(key, read.entries, read.bytes);
          return files;
        }
        reason = read.reason;
      } else reason = response.reason;
      options.log?.info({ repo: key, sha, reason }, "repository archive not used; reading files lazily");
    }
    const lazy = createLazyBaseFiles(source, sha, reason);
    // A lazy base keeps what it read; remember it (at a nominal cost) so the run's steps share it.
    if (archive) remember(key, lazy, 1_000_000);
    return lazy;
  };

  return {
    load(repoKey, sha, source, loadOptions = {}) {
      const key = `${repoKey}@${sha}`;
      const hit = memory.get(key);
      if (hit) {
        memory.delete(key);
        memory.set(key, hit);
        return Promise.resolve(hit.files);
      }
      const archive = loadOptions.archive ?? true;
      const inflightKey = `${key}:${archive}`;
      let pending = loading.get(inflightKey);
      if (!pending) {
        pending = fetchSnapshot(key, sha, source, archive).finally(() => loading.delete(inflightKey));
        loading.set(inflightKey, pending);
      }
      return pending;
    },
  };
}

/** Snapshot file: magic, 4-byte index length, JSON index `[[path, size, executable 0|1], …]`, then the bytes in order. */
async function writeSnapshot(file: string, entries: SnapshotEntry[]): Promise<void> {
  const index = Buffer.from(JSON.stringify(entries.map((e) => [e.path, e.bytes.byteLength, e.executable ? 1 : 0])), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(index.byteLength);
  const handle = await open(file, "w");
  try {
    const parts: Uint8Array[] = [MAGIC, length, index, ...entries.map((e) => e.bytes)];
    for (let i = 0; i < parts.length; i += 512) await handle.writev(parts.slice(i, i + 512));
  } finally {
    await handle.close();
  }
}

function decodeSnapshot(data: Buffer): SnapshotEntry[] | undefined {
  if (data.byteLength < MAGIC.byteLength + 4 || !data.subarray(0, MAGIC.byteLength).equals(MAGIC)) return undefined;
  const length = data.readUInt32BE(MAGIC.byteLength);
  let offset = MAGIC.byteLength + 4;
  let index: [string, number, number?][];
  try {
    index = JSON.parse(data.subarray(offset, offset + length).toString("utf8")) as [string, number, number?][];
  } catch {
    return undefined;
  }
  offset += length;
  const entries: SnapshotEntry[] = [];
  for (const [path, size, executable] of index) {
    if (offset + size > data.byteLength) return undefined;
    entries.push({ path, bytes: data.subarray(offset, offset + size), ...(executable ? { executable: true } : {}) });
    offset += size;
  }
  return offset === data.byteLength ? entries : undefined;
}

/** Deletes the least recently used snapshot files until the folder is under `maxBytes` (never `keep`). */
async function evict(dir: string, maxBytes: number, keep: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".snap"));
  const files = await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const s = await stat(path).catch(() => undefined);
      return { path, size: s?.size ?? 0, used: s?.mtimeMs ?? 0 };
    }),
  );
  let total = files.reduce((n, f) => n + f.size, 0);
  for (const f of files.sort((a, b) => a.used - b.used)) {
    if (total <= maxBytes) break;
    if (f.path === keep) continue;
    await rm(f.path, { force: true });
    total -= f.size;
  }
}
