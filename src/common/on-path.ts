/** Whether a program is installed: on PATH, or in the sbin directories a root tool lives in. */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export const onPath = (name: string) =>
  [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"].some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
