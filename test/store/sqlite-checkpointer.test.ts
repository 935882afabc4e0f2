import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { startWalCheckpointer } from "../../src/store/sqlite-checkpointer.ts";

const autocheckpoint = (db: DatabaseSync) => Number((db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint);

describe("startWalCheckpointer", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("checkpoints the WAL from a worker while the main connection's automatic checkpoint is off, and restores it on stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-ckpt-"));
    dirs.push(dir);
    const path = join(dir, "x.db");
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT); CREATE TABLE p (id INTEGER PRIMARY KEY)");
    const checkpointer = startWalCheckpointer(db, path, { intervalMs: 20 });
    expect(autocheckpoint(db)).toBe(0);
    const insert = db.prepare("INSERT INTO t (data) VALUES (?)");
    // 20 bursts of 100 commits (≈ 10 MB of WAL frames in all). The main connection never checkpoints,
    // so the WAL stays small only if the worker checkpoints between bursts (the next writer then
    // starts the WAL over from its beginning).
    // Between bursts, wait (bounded, adapting to a loaded machine) until the worker's checkpoint let
    // the WAL start over: the WAL header's salt changes when a writer restarts it after a checkpoint.
    const probe = db.prepare("INSERT INTO p DEFAULT VALUES");
    const salt = () => readFileSync(`${path}-wal`).subarray(16, 24).toString("hex");
    for (let burst = 0; burst < 20; burst++) {
      const before = salt();
      for (let i = 0; i < 100; i++) insert.run("x".repeat(2000));
      for (let tick = 0; ; tick++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        probe.run();
        if (salt() !== before) break;
        if (tick > 250) throw new Error(`the WAL was not checkpointed within 5 s after burst ${burst}`);
      }
    }
    expect(statSync(`${path}-wal`).size).toBeLessThan(3_000_000);
    await checkpointer.stop();
    expect(autocheckpoint(db)).toBe(1000);
    expect((db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n).toBe(2000);
    db.close();
  });
  it("bounds the WAL file: once a reader that held the checkpoint back is gone, a WAL past the limit is truncated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-ckpt-"));
    dirs.push(dir);
    const path = join(dir, "x.db");
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)");
    const reader = new DatabaseSync(path);
    reader.exec("BEGIN");
    reader.prepare("SELECT COUNT(*) AS n FROM t").get(); // pins a snapshot: no checkpoint can finish past it
    const checkpointer = startWalCheckpointer(db, path, { intervalMs: 20, walLimitBytes: 1_000_000 });
    const insert = db.prepare("INSERT INTO t (data) VALUES (?)");
    for (let i = 0; i < 2000; i++) insert.run("x".repeat(2000));
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(3_000_000);
    reader.exec("COMMIT");
    // no further writes: only the worker can shrink the file now
    for (let tick = 0; statSync(`${path}-wal`).size > 1_000_000; tick++) {
      if (tick > 250) throw new Error(`WAL still ${statSync(`${path}-wal`).size} bytes after 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await checkpointer.stop();
    expect((db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n).toBe(2000);
    reader.close();
    db.close();
  });
});
