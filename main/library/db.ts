// The catalog: one SQLite file (WAL, foreign keys, versioned migrations).
// Photos are identified by the sha256 of their content, so a moved or renamed
// file keeps its tokens and a duplicate is compressed once.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

/** Each entry moves the schema one version up; never edit one that has shipped. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    available INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    taken_at TEXT,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    photo_id INTEGER REFERENCES photos(id),
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('present', 'missing')),
    error_code TEXT,
    error TEXT,
    seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE INDEX files_photo ON files(photo_id);
  CREATE INDEX files_folder ON files(folder_id);
  CREATE TABLE tokens (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    pack_id TEXT NOT NULL,
    tokens BLOB NOT NULL,
    embedding BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (photo_id, pack_id)
  ) WITHOUT ROWID;
  CREATE TABLE compress_errors (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    pack_id TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (photo_id, pack_id)
  ) WITHOUT ROWID;
  CREATE TABLE captions (
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    pack_id TEXT NOT NULL,
    budget INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (photo_id, pack_id, budget)
  ) WITHOUT ROWID;
  CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    pack_id TEXT NOT NULL,
    budget INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    asked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );
  CREATE INDEX questions_photo ON questions(photo_id);
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `,
  // Which photos a pack has tokens for, without touching the 4 KiB token rows: what the
  // queue's next batch and the counts read (they scanned the big table before).
  `
  CREATE INDEX tokens_pack ON tokens(pack_id, photo_id);
  CREATE INDEX compress_errors_pack ON compress_errors(pack_id, photo_id);
  CREATE INDEX files_status_photo ON files(status, photo_id);
  `,
  // Cached tokens in the pack's encoding (main/engine/tokenCodec.ts): every row written
  // before this version is float16 and stays readable as such.
  `
  ALTER TABLE tokens ADD COLUMN encoding TEXT NOT NULL DEFAULT 'float16' CHECK (encoding IN ('float16', 'int8'));
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class CatalogError extends Error {
  override name = 'CatalogError';
}

export function openDb(file: string): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new CatalogError(`${file} was written by a newer Glimpse (schema ${version}, this one reads up to ${SCHEMA_VERSION})`);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/** Prepared statements by their text: preparing costs more than running most of ours. */
export function statements(db: Db): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
}
