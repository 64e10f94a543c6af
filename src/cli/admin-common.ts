/** What the admin commands share: the offline CLC, the tables they print, a key they hand out. */
import { Command } from "commander";
import { writeFileAtomic } from "../common/files";
import { type IssuedKey } from "../rpc/key-file";
import { openOfflineClc, type OfflineClc } from "./clc-offline";
import { settingsWithSourcesOf, type CliIo } from "./settings-flags";
import type { Settings } from "../config/settings";

export async function withClc<T>(
  cmd: Command,
  io: CliIo,
  fn: (clc: OfflineClc, s: Settings, given: ReadonlySet<keyof Settings>) => Promise<T> | T,
): Promise<T> {
  const { settings: s, given } = settingsWithSourcesOf(cmd, io);
  const clc = await openOfflineClc(s, given, io.err);
  try {
    return await fn(clc, s, given);
  } finally {
    clc.close();
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export function positiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`'${v}' is not a positive integer`);
  return Number(v);
}

export function emitKey(io: CliIo, key: IssuedKey, out: string | undefined, installHint: string): void {
  const json = JSON.stringify(key, null, 2) + "\n";
  if (out) {
    writeFileAtomic(out, json, 0o600);
    io.out(`euca: key for ${key.role} '${key.name}' written to ${out}; ${installHint}\n`);
  } else {
    io.out(json);
  }
}
