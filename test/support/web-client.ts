/**
 * A small HTTPS client for the web interface's security tests: it trusts only the
 * cloud CA (so every request also checks the server certificate), keeps cookies,
 * and reads a page's CSRF token the way a browser form would carry it.
 */
import { request } from "node:https";
import { readFileSync } from "node:fs";

export interface WebResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  location?: string;
}

export class WebClient {
  readonly cookies = new Map<string, string>();
  private readonly ca: string;

  /** `from`: the loopback address the client connects from (127.0.0.0/8), as another host would. */
  constructor(
    readonly baseUrl: string,
    caFile: string,
    readonly from?: string,
  ) {
    this.ca = readFileSync(caFile, "utf8");
  }

  request(
    method: string,
    path: string,
    o: { form?: Record<string, string>; body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<WebResponse> {
    const body = o.form ? new URLSearchParams(o.form).toString() : o.body;
    const headers: Record<string, string> = {
      ...(o.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      ...o.headers,
    };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.baseUrl),
        { method, headers, ca: this.ca, localAddress: this.from },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (b: Buffer) => parts.push(b));
          res.on("end", () => {
            for (const c of ([] as string[]).concat(res.headers["set-cookie"] ?? [])) {
              const [pair] = c.split(";");
              const i = pair!.indexOf("=");
              const name = pair!.slice(0, i);
              const value = pair!.slice(i + 1);
              if (/max-age=0/i.test(c)) this.cookies.delete(name);
              else this.cookies.set(name, value);
            }
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: Buffer.concat(parts).toString("utf8"),
              location: res.headers.location,
            });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  get(path: string) {
    return this.request("GET", path);
  }

  /** The CSRF token of the forms on `path` (GETting it first). */
  async csrf(path = "/login"): Promise<string> {
    const r = await this.get(path);
    const m = /name="_csrf" value="([^"]+)"/.exec(r.body);
    if (!m) throw new Error(`no CSRF token on ${path} (status ${r.status})`);
    return m[1]!;
  }

  /** Posts a form with the page's token. */
  async post(path: string, form: Record<string, string>, tokenFrom = "/"): Promise<WebResponse> {
    return this.request("POST", path, { form: { _csrf: await this.csrf(tokenFrom), ...form } });
  }

  async login(name: string, password: string): Promise<WebResponse> {
    return this.request("POST", "/login", {
      form: { _csrf: await this.csrf("/login"), userName: name, password, next: "/" },
    });
  }
}
