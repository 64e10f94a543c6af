/**
 * Tells systemd (a `Type=notify` unit) how the process is: `READY=1` once every role
 * serves, `STOPPING=1` at shutdown, a `STATUS=` line. Node cannot send on a unix datagram
 * socket, so Debian's `systemd-notify` sends it, naming this process as the unit's main
 * one (`--pid`; the unit says `NotifyAccess=all`). Without NOTIFY_SOCKET it does nothing.
 */
import { spawn } from "node:child_process";

export function notifySystemd(
  fields: { ready?: boolean; stopping?: boolean; status?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve();
  const args = [`--pid=${process.pid}`];
  if (fields.ready) args.push("--ready");
  if (fields.status) args.push(`--status=${fields.status}`);
  if (fields.stopping) args.push("STOPPING=1");
  return new Promise((resolve) => {
    const p = spawn("systemd-notify", args, { stdio: "ignore", env });
    p.on("error", () => resolve()); // no systemd-notify: nothing to tell
    p.on("exit", () => resolve());
  });
}
