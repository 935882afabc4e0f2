/**
 * Reads a repository archive (GitHub's gzip tarball) into snapshot entries with tar-stream: regular
 * files only, GitHub's `owner-repo-sha/` top folder stripped, paths that the workspace would refuse
 * (`..`, `.git/`) dropped. Stops as soon as the files add up to more than `maxBytes`.
 */
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import type { SnapshotEntry } from "./base-files.ts";
import { normalizePath } from "./workspace-paths.ts";

export type ArchiveContents = { ok: true; entries: SnapshotEntry[]; bytes: number } | { ok: false; reason: string };

/**
 * @example
 * const read = await readArchive(response.body, { maxBytes: 200_000_000 });
 * if (read.ok) base = createSnapshotFiles(sha, read.entries);
 */
export async function readArchive(body: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<ArchiveContents> {
  const source = Readable.from(body);
  const gunzip = createGunzip();
  const tar = extract();
  const fail = (error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error)));
  source.on("error", fail);
  gunzip.on("error", fail);
  source.pipe(gunzip).pipe(tar);
  const entries: SnapshotEntry[] = [];
  let bytes = 0;
  try {
    for await (const entry of tar) {
      const { header } = entry;
      if (header.type !== "file" && header.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      if (bytes + (header.size ?? 0) > options.maxBytes) {
        return { ok: false, reason: `the repository archive is larger than the snapshot limit (${Math.round(options.maxBytes / 1_000_000)} MB)` };
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const data = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
      bytes += data.byteLength;
      const path = repositoryPath(header.name);
      if (path !== undefined) entries.push({ path, bytes: data, ...((header.mode ?? 0) & 0o111 ? { executable: true } : {}) });
    }
  } catch (error) {
    return { ok: false, reason: `the repository archive could not be read (${error instanceof Error ? error.message : String(error)})` };
  } finally {
    source.destroy();
    gunzip.destroy();
    tar.destroy();
  }
  return { ok: true, entries, bytes };
}

/** `owner-repo-sha/src/a.ts` → `src/a.ts`; undefined for the top folder itself or a refused path. */
function repositoryPath(name: string): string | undefined {
  const slash = name.indexOf("/");
  if (slash < 0) return undefined;
  try {
    return normalizePath(name.slice(slash + 1));
  } catch {
    return undefined;
  }
}
