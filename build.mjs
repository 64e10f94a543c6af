// Bundles the whole CLI into dist/euca.mjs. Native modules (better-sqlite3) and
// packages that load files relative to themselves (pino's worker transports) stay
// external and are resolved from node_modules at run time.
import { build } from "esbuild";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/euca.mjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  external: ["better-sqlite3", "pino", "@node-rs/crc32"],
  define: { __EUCA_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: {
    js: "import { createRequire as __euca_cr } from 'node:module'; const require = __euca_cr(import.meta.url);",
  },
  logLevel: "warning",
});

// The web interface's scripts and styles (src/web-client/), small and minified; served from dist/web/.
await build({
  entryPoints: ["src/web-client/live-instances.ts", "src/web-client/capacity-chart.ts", "src/web-client/euca.css"],
  outdir: "dist/web",
  bundle: true,
  minify: true,
  platform: "browser",
  target: ["chrome120", "firefox120", "safari17"],
  format: "iife",
  logLevel: "warning",
});
