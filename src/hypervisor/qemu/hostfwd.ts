/**
 * A running guest's host forwards, read from and changed in QEMU itself: `info usernet`
 * says which are in force (so a restarted NC, or a QEMU that refused one, is seen as it
 * is), hostfwd_add / hostfwd_remove change them. Both are monitor commands, reached over
 * QMP's human-monitor-command, which answers "" on success and a message otherwise.
 */
import { readFileSync } from "node:fs";
import { forwardKey, type PortForward } from "../../net/port-forwards";
import { HypervisorError, type ForwardResult } from "../types";
import { NETDEV_ID } from "./args";
import type { QmpConnection } from "./qmp";

/** The HOST_FORWARD rows of `info usernet`: "TCP[HOST_FORWARD]  14  127.64.0.34  22  169.254.169.15  22  0  0". */
export function parseUsernet(text: string): PortForward[] {
  const out: PortForward[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(TCP|UDP)\[HOST_FORWARD\]\s+\d+\s+(\S+)\s+(\d+)\s/.exec(line);
    if (m) out.push({ protocol: m[1]!.toLowerCase() as "tcp" | "udp", hostIp: m[2]!, port: Number(m[3]) });
  }
  return out;
}

const hmp = async (c: QmpConnection, line: string) =>
  String(await c.execute<string>("human-monitor-command", { "command-line": line })).trim();

export async function forwardsInForce(c: QmpConnection): Promise<PortForward[]> {
  return parseUsernet(await hmp(c, "info usernet"));
}

/** Brings the guest's forwards to `wanted`: removes the rest first (freeing what moves), then adds what is missing. */
export async function applyForwards(c: QmpConnection, wanted: readonly PortForward[]): Promise<ForwardResult> {
  const current = await forwardsInForce(c);
  const want = new Set(wanted.map(forwardKey));
  const have = new Set(current.map(forwardKey));
  for (const f of current.filter((x) => !want.has(forwardKey(x)))) {
    const said = await hmp(c, `hostfwd_remove ${NETDEV_ID} ${forwardKey(f)}`);
    if (!/removed/.test(said))
      throw new HypervisorError("unreachable", `QEMU did not remove the forward ${forwardKey(f)}: ${said}`);
  }
  const failed: ForwardResult["failed"] = [];
  for (const f of wanted.filter((x) => !have.has(forwardKey(x)))) {
    const said = await hmp(c, `hostfwd_add ${NETDEV_ID} ${forwardKey(f)}-:${f.port}`);
    // QEMU says only that it could not: a privileged port, or another socket on that address and port.
    if (said)
      failed.push({
        forward: f,
        reason: `${said} (${privilegedPortHint(f.port) ?? `is something else listening on ${f.hostIp}:${f.port}?`})`,
      });
  }
  return { failed };
}

/** The first port an ordinary user may bind (Linux: net.ipv4.ip_unprivileged_port_start, 1024 by default). */
export function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
  } catch {
    return 1024;
  }
}

/** Why an ordinary user's QEMU cannot bind `port`, and what allows it; undefined when it may. */
export function privilegedPortHint(port: number, uid = process.getuid?.() ?? 0): string | undefined {
  const start = unprivilegedPortStart();
  if (uid === 0 || port >= start) return undefined;
  return `ports below ${start} need root; as an ordinary user allow them once with: sudo sysctl net.ipv4.ip_unprivileged_port_start=${port}`;
}
