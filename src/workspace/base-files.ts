/**
 * The files of a run's base commit, as the workspace reads them: a snapshot (every file in memory,
 * from the repository archive) or lazy reads (one request per file, see `lazy-base-files.ts`).
 */
import { isAscii, isUtf8 } from "node:buffer";

/** A base file: text, or binary (never decoded; publishing leaves it untouched). */
export type BaseFile = { kind: "text"; text: string } | { kind: "binary"; size: number };

export interface BaseFiles {
  readonly sha: string;
  readonly mode: "snapshot" | "lazy";
  /** What cannot be seen or searched, in words for the model; undefined when everything can. */
  notice(): string | undefined;
  /** Every file path of the base commit, sorted. */
  paths(): Promise<readonly string[]>;
  /** The file, or undefined when the base has no such file. */
  read(path: string): Promise<BaseFile | undefined>;
  /** Paths whose content is available without a request (every path of a snapshot), sorted. */
  searchable(): Promise<readonly string[]>;
  /** The file's Git mode (executable or not), undefined when the base has no such file. */
  modeOf(path: string): Promise<FileMode | undefined>;
}

export type FileMode = "100644" | "100755";

/** Git's heuristic (a NUL byte in the first 8,000 bytes) plus invalid UTF-8. */
export function isBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8000);
  return head.includes(0) || !isUtf8(bytes);
}

/** Decodes bytes read from a repository into a `BaseFile`. */
export function toBaseFile(bytes: Uint8Array): BaseFile {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Most source files are ASCII: latin1 decoding is then exact and much faster than UTF-8's.
  if (isAscii(buffer)) return buffer.includes(0) ? { kind: "binary", size: buffer.byteLength } : { kind: "text", text: buffer.toString("latin1") };
  if (isBinary(buffer)) return { kind: "binary", size: buffer.byteLength };
  return { kind: "text", text: buffer.toString("utf8") };
}

/** One file of a snapshot: its bytes (a view into the snapshot's buffers). */
export interface SnapshotEntry {
  path: string;
  bytes: Uint8Array;
  executable?: boolean;
}

/**
 * A complete snapshot over files held in memory. Text is decoded once per file, when first read.
 *
 * @example
 * const base = createSnapshotFiles("abc123", [{ path: "README.md", bytes: Buffer.from("# hi\n") }]);
 * await base.read("README.md"); // { kind: "text", text: "# hi\n" }
 */
export function createSnapshotFiles(sha: string, entries: Iterable<SnapshotEntry>): BaseFiles & { readonly bytes: number } {
  const files = new Map<string, Uint8Array>();
  const executable = new Set<string>();
  let bytes = 0;
  for (const entry of entries) {
    files.set(entry.path, entry.bytes);
    if (entry.executable) executable.add(entry.path);
    bytes += entry.bytes.byteLength;
  }
  const sorted = [...files.keys()].sort();
  const decoded = new Map<string, BaseFile>();
  return {
    sha,
    mode: "snapshot",
    bytes,
    notice: () => undefined,
    paths: () => Promise.resolve(sorted),
    searchable: () => Promise.resolve(sorted),
    modeOf: (path) => Promise.resolve(files.has(path) ? (executable.has(path) ? "100755" : "100644") : undefined),
    read(path) {
      const cached = decoded.get(path);
      if (cached) return Promise.resolve(cached);
      const raw = files.get(path);
      if (!raw) return Promise.resolve(undefined);
      const file = toBaseFile(raw);
      decoded.set(path, file);
      return Promise.resolve(file);
    },
  };
}

/** A snapshot of text files given as strings (tests, the CLI's local checkout). */
export function snapshotFromTexts(sha: string, files: Record<string, string>): BaseFiles {
  return createSnapshotFiles(sha, Object.entries(files).map(([path, text]) => ({ path, bytes: Buffer.from(text, "utf8") })));
}
