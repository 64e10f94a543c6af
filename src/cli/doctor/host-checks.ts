/**
 * What a host needs for its roles, checked without the cloud: the hypervisor and its
 * devices, the network mode's programs and kernel features, the storage exporters, the
 * data directory's room, and the ports the roles will listen on.
 */
import { accessSync, constants, existsSync, readFileSync, statfsSync } from "node:fs";
import { release } from "node:os";
import { createServer } from "node:net";
import { onPath } from "../../common/on-path";
import { isBridged, isManaged } from "../../config/network";
import { VNET_MODES } from "../../net/modes";
import { fail, pass, warn, type Check, type CheckResult } from "./check";

const PACKAGE: Record<string, string> = {
  ip: "iproute2",
  nft: "nftables",
  sysctl: "procps",
  dnsmasq: "dnsmasq-base",
  conntrack: "conntrack",
  arping: "iputils-arping",
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-storage-daemon": "qemu-system-common",
  tgtd: "tgt",
  tgtadm: "tgt",
  xl: "xen-utils",
};

const usable = (path: string, mode: number) => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};

const tool = (id: string, name: string, why: string, level: "FAIL" | "WARN" = "FAIL"): CheckResult =>
  onPath(name)
    ? pass(id, `${name} is installed`)
    : (level === "FAIL" ? fail : warn)(
        id,
        `${name} is not installed (${why})`,
        `apt-get install ${PACKAGE[name] ?? name}`,
      );

const qemuNode = (c: Parameters<Check>[0]) => c.has("nc") && c.s.hypervisor === "qemu";

export const HOST_CHECKS: Check[] = [
  (c) => {
    if (!qemuNode(c)) return undefined;
    const out = [tool("hypervisor.qemu", "qemu-system-x86_64", "the node's hypervisor")];
    out.push(
      usable("/dev/kvm", constants.R_OK | constants.W_OK)
        ? pass("hypervisor.kvm", "/dev/kvm is usable: guests run accelerated")
        : c.s.qemuAccel === "tcg"
          ? pass("hypervisor.kvm", "QEMU_ACCEL is tcg: no acceleration asked for")
          : warn(
              "hypervisor.kvm",
              "/dev/kvm is missing or not usable: guests would run under TCG, many times slower",
              "enable virtualization in the firmware and load kvm_intel or kvm_amd (or set --qemu-accel tcg knowingly)",
            ),
    );
    return out;
  },
  (c) => {
    if (!c.has("nc") || c.s.hypervisor !== "xen") return undefined;
    return tool("hypervisor.xen", "xl", "the Xen toolstack the node drives");
  },
  (c) => {
    if (!qemuNode(c) || !isBridged(c.s)) return undefined;
    return [
      existsSync("/dev/net/tun")
        ? pass("net.tun", "/dev/net/tun is present: guests get taps")
        : fail("net.tun", "/dev/net/tun is missing: no guest can get a network card", "modprobe tun"),
      existsSync("/dev/vhost-net")
        ? pass("net.vhost", "/dev/vhost-net is present: guest networking in the kernel")
        : warn("net.vhost", "/dev/vhost-net is missing: guest networking runs in QEMU, slower", "modprobe vhost_net"),
    ];
  },
  (c) => {
    const mode = VNET_MODES[c.s.vnetMode];
    const tools = [...new Set([...(c.has("cc") ? mode.gatewayTools : []), ...(c.has("nc") ? mode.nodeTools : [])])];
    if (!tools.length) return undefined;
    const out = tools.map((t) => tool(`net.${t}`, t, `VNET_MODE ${c.s.vnetMode} runs it`));
    out.push(
      process.getuid?.() === 0
        ? pass("run.root", `running as root, as VNET_MODE ${c.s.vnetMode} needs`)
        : fail(
            "run.root",
            `VNET_MODE ${c.s.vnetMode} makes bridges, links and rules: it needs root`,
            "run euca as root (the systemd unit does)",
          ),
    );
    return out;
  },
  (c) => {
    if (!isManaged(c.s) || !(c.has("cc") || c.has("nc"))) return undefined;
    const dir = `/lib/modules/${release()}`;
    const listed = (file: string, m: string) =>
      existsSync(`${dir}/${file}`) && new RegExp(`/${m}\\.ko`).test(readFileSync(`${dir}/${file}`, "utf8"));
    return (["bridge", "vxlan", "br_netfilter"] as const).map((m) =>
      existsSync(`/sys/module/${m}`) || listed("modules.builtin", m)
        ? pass(`kernel.${m}`, `${m} is in the running kernel`)
        : listed("modules.dep", m)
          ? warn(`kernel.${m}`, `the ${m} module is not loaded yet (it loads on first use)`, `modprobe ${m}`)
          : existsSync(dir)
            ? fail(`kernel.${m}`, `this kernel has no ${m} module`, `install a kernel with ${m} (Debian's has it)`)
            : warn(
                `kernel.${m}`,
                `${m} is not loaded and ${dir} is missing to tell whether it can be`,
                `modprobe ${m}`,
              ),
    );
  },
  (c) => {
    if (!c.has("sc")) return undefined;
    return c.s.scExport === "iscsi"
      ? [
          tool("storage.tgtd", "tgtd", "the SC's iSCSI target"),
          tool("storage.tgtadm", "tgtadm", "the SC's iSCSI target"),
        ]
      : tool(
          "storage.qemu-storage-daemon",
          "qemu-storage-daemon",
          "the SC's NBD exports (else volumes attach only on this host)",
          "WARN",
        );
  },
  (c) => {
    if (!qemuNode(c)) return undefined;
    const lib = ["/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so", "/usr/lib/qemu/block-iscsi.so"].some((p) =>
      existsSync(p),
    );
    return lib
      ? pass("storage.libiscsi", "QEMU's iSCSI block driver is installed")
      : warn(
          "storage.libiscsi",
          "QEMU's iSCSI block driver is missing: volumes exported over iSCSI cannot attach here",
          "apt-get install qemu-block-extra",
        );
  },
  (c) => {
    const dir = existsSync(c.layout.root) ? c.layout.root : "/";
    const st = statfsSync(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    const share = Number(st.bavail) / Math.max(1, Number(st.blocks));
    const inodes = Number(st.ffree) / Math.max(1, Number(st.files));
    const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
    return [
      free < 1024 ** 3
        ? fail(
            "disk.space",
            `${gib(free)} free under ${dir}`,
            "free space there, or give --data-dir on a larger file system",
          )
        : share < 0.1
          ? warn(
              "disk.space",
              `${gib(free)} free under ${dir} (${(share * 100).toFixed(0)}%)`,
              "free space before images and volumes fill it",
            )
          : pass("disk.space", `${gib(free)} free under ${dir}`),
      Number(st.files) > 0 && inodes < 0.05
        ? warn(
            "disk.inodes",
            `${(inodes * 100).toFixed(1)}% of inodes free under ${dir}`,
            "free inodes (many small objects fill them)",
          )
        : pass("disk.inodes", `inodes free under ${dir}`),
    ];
  },
  async (c) => {
    const wanted: Array<[string, number]> = [];
    if (c.has("clc")) wanted.push(["ec2", c.s.ec2Port], ["web", c.s.webPort]);
    if (c.has("clc") && !(c.has("cc") && c.has("nc"))) wanted.push(["internal", c.s.internalPort]);
    if (c.has("walrus")) wanted.push(["s3", c.s.s3Port]);
    if (c.has("cc") && !c.has("clc")) wanted.push(["cc", c.s.ccPort]);
    if (c.has("nc") && !c.has("cc")) wanted.push(["nc", c.s.ncPort]);
    if (!c.has("clc")) wanted.push(["main", c.s.ec2Port]);
    const out: CheckResult[] = [];
    // A running euca here answers its heartbeat on the main port (in plain HTTP, also with TLS on); the ports it holds are then its own.
    const running = c.s.ec2Port > 0 && (await eucaAnswers(c.s.host, c.s.ec2Port));
    for (const [name, port] of wanted.filter(([, p]) => p > 0)) {
      const free = await new Promise<boolean>((resolve) => {
        const srv = createServer();
        srv.once("error", () => resolve(false));
        srv.listen(port, c.s.host, () => srv.close(() => resolve(true)));
      });
      if (free) out.push(pass(`port.${name}`, `${c.s.host}:${port} is free`));
      else if (running) out.push(pass(`port.${name}`, `${c.s.host}:${port} is held by this host's running euca`));
      else
        out.push(
          fail(
            `port.${name}`,
            `${c.s.host}:${port} is taken by another program`,
            `stop it (ss -ltnp 'sport = :${port}' names it) or give euca another --${name === "main" ? "ec2" : name}-port`,
          ),
        );
    }
    return out;
  },
];

/** Whether euca's heartbeat (`role=ready` lines) answers on host:port. */
async function eucaAnswers(host: string, port: number): Promise<boolean> {
  const h = host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  try {
    const r = await fetch(`http://${h}:${port}/services/Heartbeat`, { signal: AbortSignal.timeout(1500) });
    return /^[a-z]+=(ready|starting)$/m.test(await r.text());
  } catch {
    return false; // not http, or not euca
  }
}
