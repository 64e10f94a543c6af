#!/usr/bin/env node
// A fake `xl` for tests: keeps domains in $EUCA_FAKE_XL_DIR and prints what xen-utils-4.17
// prints — the `xl list` / `xl info` formats and the error texts recorded in
// test/fixtures/xen/ (real binary, LD_PRELOAD shim). Messages libxl prints only with a live
// hypervisor (a domain that fails to build) are worded here and marked (not recorded).
// Every call's argv is appended to calls.log; faults.json switches failures on:
//   { "failCreate": ["i-…"], "crashed": ["i-…"], "unreachable": true, "totalMb": 6144 }
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.EUCA_FAKE_XL_DIR;
if (!dir) {
  process.stderr.write("fake xl: EUCA_FAKE_XL_DIR is not set\n");
  process.exit(2);
}
mkdirSync(join(dir, "console"), { recursive: true });
const args = process.argv.slice(2);
appendFileSync(join(dir, "calls.log"), JSON.stringify(args) + "\n");

const read = (f, dflt) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), "utf8")) : dflt);
const faults = read("faults.json", {});
const state = read("domains.json", { next: 1, domains: {} });
const save = () => writeFileSync(join(dir, "domains.json"), JSON.stringify(state));
const fail = (text, code = 1) => {
  process.stderr.write(text + "\n");
  process.exit(code);
};
const consoleLog = (name, line) => appendFileSync(join(dir, "console", `guest-${name}.log`), line + "\n");
const invalid = (name) => fail(`${name} is an invalid domain identifier (rc=-6)`);
const TOTAL = faults.totalMb ?? 6144;
const DOM0 = 1024;

if (faults.unreachable) {
  fail(
    "xencall: error: Could not obtain handle on privileged command interface: No such file or directory\nlibxl: error: libxl.c:102:libxl_ctx_alloc: cannot open libxc handle: No such file or directory\ncannot init xl context",
  );
}

function flags(d) {
  if ((faults.crashed ?? []).includes(d.name)) return "---sc-";
  return "-b----";
}

function row(name, domid, mem, vcpus, f, time) {
  const pad = (s, n) => String(s).padStart(n);
  return `${name.padEnd(40)} ${pad(domid, 5)} ${pad(mem, 5)} ${pad(vcpus, 5)}     ${f}  ${pad(time.toFixed(1), 8)}`;
}

/** The handful of xl.cfg forms the driver writes: key = "str" | number | [ 'a', 'b' ]. */
function parseCfg(text) {
  const cfg = {};
  for (const line of text.split("\n")) {
    const m = /^\s*(\w+)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2];
    if (v.startsWith("[")) cfg[m[1]] = [...v.matchAll(/'([^']*)'/g)].map((x) => x[1]);
    else if (v.startsWith('"')) cfg[m[1]] = v.slice(1, -1);
    else cfg[m[1]] = Number(v);
  }
  return cfg;
}

const domain = (name) => state.domains[name];
let [cmd, ...rest] = args;
if (cmd === "-N") [cmd, ...rest] = rest; // dry run flag is accepted for create only

switch (cmd) {
  case "info": {
    const used = Object.values(state.domains).reduce((n, d) => n + d.memMb, 0);
    const lines = [
      ["host", "fake"],
      ["release", "6.1.0-fake"],
      ["machine", "x86_64"],
      ["nr_cpus", String(faults.cpus ?? 4)],
      ["max_cpu_id", String((faults.cpus ?? 4) - 1)],
      ["nr_nodes", "1"],
      ["cores_per_socket", String(faults.cpus ?? 4)],
      ["threads_per_core", "1"],
      ["cpu_mhz", "2000.000"],
      ["virt_caps", "pv hvm hap shadow gnttab-v1"],
      ["total_memory", String(TOTAL)],
      ["free_memory", String(TOTAL - DOM0 - used)],
      ["sharing_freed_memory", "0"],
      ["sharing_used_memory", "0"],
      ["outstanding_claims", "0"],
      ["free_cpus", "0"],
      ["xen_major", "4"],
      ["xen_minor", "17"],
      ["xen_extra", ".7"],
      ["xen_version", "4.17.7"],
      ["xen_caps", "xen-3.0-x86_64 hvm-3.0-x86_64"],
      ["xen_scheduler", "credit2"],
      ["xen_pagesize", "4096"],
      ["xend_config_format", "4"],
    ];
    process.stdout.write(lines.map(([k, v]) => `${k.padEnd(23)}: ${v}`).join("\n") + "\n");
    break;
  }
  case "list": {
    const long = rest[0] === "-l";
    const name = long ? rest[1] : rest[0];
    if (name && !domain(name)) invalid(name);
    const ds = Object.values(state.domains).filter((d) => !name || d.name === name);
    if (long) {
      process.stdout.write(
        JSON.stringify(
          ds.map((d) => ({
            domid: d.domid,
            config: {
              c_info: { type: "pv", name: d.name },
              b_info: {
                max_vcpus: d.vcpus,
                max_memkb: d.memMb * 1024,
                target_memkb: d.memMb * 1024,
                kernel: d.cfg.kernel,
                cmdline: d.cfg.extra,
                ramdisk: d.cfg.ramdisk,
              },
              disks: d.disks.map((s) => ({
                pdev_path: /target=(.*)$/.exec(s)[1],
                vdev: /vdev=([^,]+)/.exec(s)[1],
                format: "raw",
                readwrite: /access=ro/.test(s) ? 0 : 1,
              })),
              nics: (d.cfg.vif ?? []).map((v, i) => ({
                devid: i,
                mac: /mac=([^,]+)/.exec(v)?.[1],
                ...(/bridge=([^,]+)/.test(v) ? { bridge: /bridge=([^,]+)/.exec(v)[1] } : {}),
              })),
            },
          })),
          null,
          4,
        ) + "\n",
      );
      break;
    }
    const out = ["Name                                        ID   Mem VCPUs\tState\tTime(s)"];
    if (!name) out.push(row("Domain-0", 0, DOM0, faults.cpus ?? 4, "r-----", 1234.5));
    for (const d of ds) out.push(row(d.name, d.domid, d.memMb, d.vcpus, flags(d), 0.4));
    process.stdout.write(out.join("\n") + "\n");
    break;
  }
  case "create": {
    const file = rest.find((a) => !a.startsWith("-"));
    if (!file || !existsSync(file)) fail(`Failed to read config file: ${file}: No such file or directory`, 3);
    process.stderr.write(`Parsing config from ${file}\n`);
    const cfg = parseCfg(readFileSync(file, "utf8"));
    if (args[0] === "-N") {
      process.stdout.write(
        JSON.stringify(
          {
            c_info: { type: cfg.type ?? "pv", name: cfg.name },
            b_info: { max_vcpus: cfg.vcpus, max_memkb: cfg.memory * 1024 },
          },
          null,
          4,
        ) + "\n",
      );
      break;
    }
    // (not recorded) libxl's wording when a domain cannot be built
    if (domain(cfg.name))
      fail(
        `libxl: error: libxl_create.c:720:libxl__domain_make: Domain ${state.next}:domain with name "${cfg.name}" already exists.\nlibxl: error: libxl_create.c:1305:initiate_domain_create: Domain ${state.next}:cannot make domain: -6`,
      );
    if (cfg.kernel && !existsSync(cfg.kernel))
      fail(
        `libxl: error: libxl_dom.c:674:libxl__build_dom: Domain ${state.next}:xc_dom_kernel_file failed: No such file or directory\nlibxl: error: libxl_create.c:1739:domcreate_rebuild_done: Domain ${state.next}:cannot (re-)build domain: -3`,
      );
    if ((faults.failCreate ?? []).includes(cfg.name))
      fail(
        `libxl: error: libxl_create.c:1739:domcreate_rebuild_done: Domain ${state.next}:cannot (re-)build domain: -3`,
      );
    const used = Object.values(state.domains).reduce((n, d) => n + d.memMb, 0);
    if (cfg.memory > TOTAL - DOM0 - used)
      fail(
        `libxl: error: libxl_create.c:1739:domcreate_rebuild_done: Domain ${state.next}:cannot (re-)build domain: -3\nxc: error: panic: xc_dom_boot.c:124: xc_dom_boot_mem_init: can't allocate low memory for domain: Out of memory`,
      );
    const d = { name: cfg.name, domid: state.next++, memMb: cfg.memory, vcpus: cfg.vcpus, cfg, disks: cfg.disk ?? [] };
    state.domains[d.name] = d;
    save();
    consoleLog(d.name, `[    0.000000] Linux version 6.1.0-fake (fake xl boot of ${d.name})`);
    consoleLog(d.name, `${d.name} login:`);
    break;
  }
  case "shutdown": {
    const name = rest.filter((a) => !a.startsWith("-"))[0];
    if (!domain(name)) invalid(name);
    consoleLog(name, "reboot: Power down");
    delete state.domains[name];
    save();
    break;
  }
  case "reboot": {
    if (!domain(rest[0])) invalid(rest[0]);
    consoleLog(rest[0], "reboot: Restarting system");
    consoleLog(rest[0], `[    0.000000] Linux version 6.1.0-fake (fake xl boot of ${rest[0]})`);
    consoleLog(rest[0], `${rest[0]} login:`);
    break;
  }
  case "destroy": {
    if (!domain(rest[0])) invalid(rest[0]);
    delete state.domains[rest[0]];
    save();
    break;
  }
  case "block-attach": {
    const [name, spec] = rest;
    if (!domain(name)) invalid(name);
    state.domains[name].disks.push(spec);
    save();
    break;
  }
  case "block-detach": {
    const [name, dev] = rest;
    if (!domain(name)) invalid(name);
    const d = state.domains[name];
    const i = d.disks.findIndex((s) => s.includes(`vdev=${dev},`) || s.includes(`vdev=${dev} `));
    if (i < 0) fail(`Error: Device ${dev} not connected.`); // (not recorded)
    d.disks.splice(i, 1);
    save();
    break;
  }
  default:
    fail(`${cmd}: unknown subcommand`);
}
