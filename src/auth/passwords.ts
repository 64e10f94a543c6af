/**
 * Password hashing for the web interface: scrypt (Node's own, no native addon) with a
 * random salt, stored as `scrypt$N$r$p$salt$hash` so the cost can grow later and old
 * hashes still verify. N=2^15, r=8 is OWASP's recommended minimum for scrypt.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFKC"),
      salt,
      KEY_BYTES,
      { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Whether `password` matches `stored`; a malformed stored hash matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || salt === undefined || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash no password matches, verified against when the user is unknown (the answer takes as long). */
export const UNKNOWN_USER_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString("base64url")}$${Buffer.alloc(KEY_BYTES).toString("base64url")}`;

/** The password rule the sign-up, change and reset forms share. Returns what is wrong, or undefined. */
export function passwordProblem(password: string, userName: string): string | undefined {
  if (password.length < 8) return "The password must be at least 8 characters long";
  if (password.length > 256) return "The password must be at most 256 characters long";
  if (password.toLowerCase() === userName.toLowerCase()) return "The password must not be the user name";
  return undefined;
}

/** A random initial password (the admin's, printed once): 20 characters of base64url. */
export function randomPassword(): string {
  return randomBytes(15).toString("base64url");
}
