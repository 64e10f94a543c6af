/**
 * The web interface's request safety: session and pre-session cookies (`__Host-`
 * prefixed: Secure, Path=/, no Domain; HttpOnly; SameSite=Strict), CSRF tokens bound
 * to the cookie by an HMAC (every form carries one; a POST without it is refused),
 * signed flash messages, a per-address rate limit with bounded memory, and the
 * response headers every page gets (a strict Content-Security-Policy among them).
 */
import { createHmac, randomBytes } from "node:crypto";
import { safeEqual } from "../../auth/crypto";

export const SESSION_COOKIE = "__Host-euca_session";
export const PRE_COOKIE = "__Host-euca_pre";
export const FLASH_COOKIE = "__Host-euca_flash";
export const CSRF_FIELD = "_csrf";

export function cookie(name: string, value: string, o: { maxAgeSeconds?: number } = {}): string {
  const age = o.maxAgeSeconds !== undefined ? `; Max-Age=${o.maxAgeSeconds}` : "";
  return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict${age}`;
}

export function readCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    const name = part.slice(0, Math.max(i, 0)).trim();
    if (i > 0 && name) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

export const newCookieValue = () => randomBytes(32).toString("base64url");

export function createSigner(secret: Buffer) {
  const mac = (text: string) => createHmac("sha256", secret).update(text).digest("base64url");
  return {
    /** The CSRF token of a session (or of a pre-session cookie, for the anonymous forms). */
    csrfToken: (kind: "session" | "pre", cookieValue: string) => mac(`csrf:${kind}:${cookieValue}`),
    csrfValid(kind: "session" | "pre", cookieValue: string, token: string | undefined): boolean {
      return token !== undefined && token !== "" && safeEqual(mac(`csrf:${kind}:${cookieValue}`), token);
    },
    /** A message shown once after a redirect, signed so no one else can plant text in a page. */
    flash(kind: "ok" | "error", text: string): string {
      const body = Buffer.from(JSON.stringify({ kind, text: text.slice(0, 500) })).toString("base64url");
      return `${body}.${mac(`flash:${body}`)}`;
    },
    readFlash(value: string | undefined): { kind: "ok" | "error"; text: string } | undefined {
      if (!value) return undefined;
      const [body, sig] = value.split(".");
      if (!body || !sig || !safeEqual(mac(`flash:${body}`), sig)) return undefined;
      try {
        return JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
      } catch {
        return undefined;
      }
    },
  };
}

export type Signer = ReturnType<typeof createSigner>;

/**
 * Fixed-window counts per key (an address, a user name): at most `limit` in `windowMs`.
 * At most `maxKeys` windows are kept; when full, the oldest go first.
 */
export function createRateLimiter(o: { limit: number; windowMs: number; maxKeys?: number; now?: () => number }) {
  const max = o.maxKeys ?? 10_000;
  const now = o.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** Counts one more; false when the key is over its limit in this window. */
    take(key: string): boolean {
      const t = now();
      let w = windows.get(key);
      if (!w || t - w.start >= o.windowMs) {
        windows.delete(key);
        if (windows.size >= max) windows.delete(windows.keys().next().value!);
        w = { start: t, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
      return w.count <= o.limit;
    },
  };
}

/** What a page may load: its own scripts and styles, forms to itself and to Walrus (browser uploads). */
export function securityHeaders(o: { formTargets: readonly string[] }): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    `form-action 'self' ${o.formTargets.join(" ")}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "strict-transport-security": "max-age=31536000",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
  };
}
