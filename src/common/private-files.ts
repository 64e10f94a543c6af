/**
 * The data directory holds every access key's secret (clc.db), the cloud's private
 * key and users' credentials: no other local user may read any of it. The
 * directory is 0700 and databases and key material 0600 — made so when created
 * (SQLite would otherwise create its files 0644 under a usual umask, and its -wal
 * and -shm files copy the database's mode), and checked and mended at every start,
 * since a directory made by hand or by an older euca may be 0755.
 */
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

export interface Mended {
  path: string;
  was: string;
  now: string;
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, "0");

/** Sets `path` to `mode` if it grants more; returns what changed. Symbolic links are left alone. */
function restrict(path: string, mode: number, out: Mended[]): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // gone meanwhile
  }
  if (st.isSymbolicLink() || (st.mode & 0o777 & ~mode) === 0) return;
  chmodSync(path, mode);
  out.push({ path, was: octal(st.mode), now: octal(mode) });
}

/** Creates an empty file 0600 unless it exists (then only its mode is mended). */
export function ensurePrivateFile(path: string): Mended[] {
  const out: Mended[] = [];
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  restrict(path, 0o600, out);
  return out;
}

/** A role database's companion files (WAL and shared memory) get its mode. */
export function restrictDatabaseFiles(file: string): Mended[] {
  const out: Mended[] = [];
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) restrict(f, 0o600, out);
  return out;
}

/** Directories under the data directory whose files hold secrets (but for the cloud's public certificate). */
const SECRET_TREES = ["keys", "credentials"];
const PUBLIC_FILES = new Set(["cloud-cert.pem"]);

/**
 * Makes the data directory private: the directory 0700, every database file and
 * everything under keys/ and credentials/ 0600 (their directories 0700) but the
 * cloud's certificate, which is public. Returns
 * what had to be mended, for the caller to warn about.
 */
export function securePrivateDataDir(root: string): Mended[] {
  const out: Mended[] = [];
  mkdirSync(root, { recursive: true, mode: 0o700 });
  restrict(root, 0o700, out);
  for (const name of readdirSync(root)) {
    if (/\.db(-wal|-shm|-journal)?$/.test(name)) restrict(join(root, name), 0o600, out);
  }
  const walk = (dir: string) => {
    restrict(dir, 0o700, out);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !PUBLIC_FILES.has(e.name)) restrict(p, 0o600, out);
    }
  };
  for (const tree of SECRET_TREES) if (existsSync(join(root, tree))) walk(join(root, tree));
  return out;
}
