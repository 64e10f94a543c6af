/** Parsers for what `xl` prints (formats recorded from xen-utils-4.17, test/fixtures/xen/). Pure. */
import type { HypervisorErrorKind } from "../types";

export interface XlDomain {
  name: string;
  domid: number;
  memMb: number;
  vcpus: number;
  /** r(unning) b(locked) p(aused) s(hutdown) <reason> d(ying), e.g. "-b----". */
  flags: string;
  /** Why it shut down (flags[4]): poweroff, reboot, suspend, crash, watchdog, soft-reset. */
  shutdownReason?: "poweroff" | "reboot" | "suspend" | "crash" | "watchdog" | "soft-reset";
  cpuSeconds: number;
}

const REASONS = { "-": "poweroff", r: "reboot", s: "suspend", c: "crash", w: "watchdog", S: "soft-reset" } as const;

/** `xl list`: a header, then `"%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"` per domain. */
export function parseXlList(text: string): XlDomain[] {
  const out: XlDomain[] = [];
  for (const line of text.split("\n").slice(1)) {
    const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+([r-][b-][p-][s-][-rscwS][d-])\s+([\d.]+)\s*$/.exec(line);
    if (!m) continue;
    const flags = m[5]!;
    out.push({
      name: m[1]!.trim(),
      domid: Number(m[2]),
      memMb: Number(m[3]),
      vcpus: Number(m[4]),
      flags,
      cpuSeconds: Number(m[6]),
      ...(flags[3] === "s" ? { shutdownReason: REASONS[flags[4] as keyof typeof REASONS] } : {}),
    });
  }
  return out;
}

/** `xl info`: `key : value` lines. */
export function parseXlInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export interface XlDomainConfig {
  domid: number;
  name: string;
  maxMemKb: number;
  vcpus: number;
  kernel?: string;
  ramdisk?: string;
  cmdline?: string;
  disks: Array<{ path: string; vdev: string; readwrite: boolean }>;
  nics: Array<{ mac: string; bridge?: string; ifname?: string }>;
}

interface LibxlConfig {
  c_info: { name: string };
  b_info: { max_vcpus?: number; max_memkb?: number; kernel?: string; ramdisk?: string; cmdline?: string };
  disks?: Array<{ pdev_path: string; vdev: string; readwrite?: number }>;
  nics?: Array<{ mac: string; bridge?: string; ifname?: string }>;
}

/** One libxl domain configuration, as `xl -N create` prints it. */
export function parseLibxlConfig(c: LibxlConfig, domid = -1): XlDomainConfig {
  return {
    domid,
    name: c.c_info.name,
    maxMemKb: c.b_info.max_memkb ?? 0,
    vcpus: c.b_info.max_vcpus ?? 1,
    kernel: c.b_info.kernel,
    ramdisk: c.b_info.ramdisk,
    cmdline: c.b_info.cmdline,
    disks: (c.disks ?? []).map((d) => ({ path: d.pdev_path, vdev: d.vdev, readwrite: d.readwrite === 1 })),
    nics: (c.nics ?? []).map((n) => ({
      mac: n.mac,
      ...(n.bridge ? { bridge: n.bridge } : {}),
      ...(n.ifname ? { ifname: n.ifname } : {}),
    })),
  };
}

/** `xl list -l`: a JSON array of `{ domid, config }`. */
export function parseXlListLong(json: string): XlDomainConfig[] {
  const arr = JSON.parse(json) as Array<{ domid: number; config: LibxlConfig }>;
  return arr.map((e) => parseLibxlConfig(e.config, e.domid));
}

/** What an xl failure means, from its own words (recorded texts in test/fixtures/xen/xl-errors-*). */
export function xlErrorKind(stderr: string): HypervisorErrorKind {
  if (/is an invalid domain identifier|Can't get domid of domain name/.test(stderr)) return "not-found";
  if (
    /cannot init xl context|Can't find hypervisor information|Could not obtain handle on privileged command interface/.test(
      stderr,
    )
  )
    return "unreachable";
  if (/already exists/.test(stderr)) return "exists";
  return "start-failed";
}
