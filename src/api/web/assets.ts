/**
 * The pages' scripts and styles (bundled by build.mjs from src/web-client/ into
 * dist/web/): read once, served with their gzip form to browsers that take it, and
 * cached by name and content digest.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { WebApp } from "./context";

const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** dist/web beside the bundle, or (running from src/, as tests do) the built one at the top. */
function assetDir(): string | undefined {
  for (const rel of ["./web/", "../../../dist/web/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

export function loadAssets(): Map<string, Asset> {
  const dir = assetDir();
  const out = new Map<string, Asset>();
  if (!dir) return out;
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf("."));
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(`${dir}${name}`);
    out.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type,
      etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`,
    });
  }
  return out;
}

export function assetRoutes(app: WebApp): void {
  const assets = loadAssets();
  app.get("/static/:name", (c) => {
    const a = assets.get(c.req.param("name"));
    if (!a)
      return c.text(
        assets.size ? "No such file\n" : "The web interface's scripts are not built: run `npm run build`\n",
        404,
      );
    const headers: Record<string, string> = {
      "content-type": a.type,
      etag: a.etag,
      "cache-control": "public, max-age=3600",
      vary: "accept-encoding",
    };
    if (c.req.header("if-none-match") === a.etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? ""))
      return c.body(new Uint8Array(a.gzip), 200, { ...headers, "content-encoding": "gzip" });
    return c.body(new Uint8Array(a.body), 200, headers);
  });
}
