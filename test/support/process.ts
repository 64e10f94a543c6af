/** Starts the built `euca` (dist/euca.mjs) as a child process and waits for its ready line. */
import { join } from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../../dist/euca.mjs", import.meta.url));

export interface EucaProcess {
  child: ChildProcess;
  ec2Url: string;
  s3Url: string;
  heartbeatUrl: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `as`: run it as this user (root dropping to an ordinary user; Node clears the
 * supplementary groups), or inside a network namespace of the test's.
 */
export function startEuca(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  as: { uid?: number; gid?: number; netns?: string } = {},
): Promise<EucaProcess> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  const { netns, ...ids } = as;
  const argv = netns
    ? (["ip", ["netns", "exec", netns, process.execPath, BUNDLE, ...args]] as const)
    : ([process.execPath, [BUNDLE, ...args]] as const);
  const child = spawn(argv[0], [...argv[1]], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EUCA_WEB_PORT: "0",
      EUCA_INTERNAL_PORT: "0",

      EUCA_TLS: "off",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    ...ids,
  });
  let out = "";
  let err = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`euca did not become ready:\n${out}\n${err}`)), 30_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      // ec2= and s3= only where the CLC and Walrus run.
      const m = /^euca ready: roles=\S+(?: ec2=(\S+))?(?: s3=(\S+))? heartbeat=(\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          ec2Url: m[1] ?? "",
          s3Url: m[2] ?? "",
          heartbeatUrl: m[3]!,
          stdout: () => out,
          stderr: () => err,
          exited,
        });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`euca exited with ${code} before ready:\n${out}\n${err}`));
    });
  });
}

/** Reads `export NAME='value'` lines of an eucarc. */
export function readEucarc(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of readFileSync(file, "utf8").matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm)) vars[m[1]!] = m[2]!;
  return vars;
}

/**
 * What a shell that sourced `credDir/eucarc` has: its variables (EC2_*, AWS_*, S3_URL, the
 * certificate paths with ${EUCA_KEY_DIR} expanded), for awscli and euca2ools run by a test.
 */
export function eucarcEnv(credDir: string): Record<string, string> {
  const v = readEucarc(join(credDir, "eucarc"));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)]));
}
