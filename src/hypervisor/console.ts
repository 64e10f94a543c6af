import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { CONSOLE_TAIL_BYTES } from "./types";

/** The last 64 KiB of a console file ("" when nothing was written yet), as GetConsoleOutput shows it. */
export function consoleTail(path: string): string {
  if (!existsSync(path)) return "";
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, CONSOLE_TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}
