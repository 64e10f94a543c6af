/**
 * The web interface's safety, over HTTPS that trusts only the cloud CA: the server
 * certificate, cookie flags, the Content-Security-Policy, CSRF refusals, the pause
 * after wrong passwords, session timeout and logout, one user never reaching another's
 * resources by editing ids, admin pages for admins only, nothing secret in the logs.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  DescribeInstancesCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { request } from "node:https";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../../src/common/clock";
import { subjectAltNames } from "../../../src/roles/clc/identity/pki";
import { adminUser, imageFile, uploadBundle } from "../../support/bundles";
import { s3 } from "../../support/s3";
import { WebClient, type WebResponse } from "../../support/web-client";
import { LOGIN_REFUSED } from "../../../src/roles/clc/web/web-logins";
import {
  ADMIN_NEW_PASSWORD,
  adminClient,
  startWebCloud,
  userWithPassword as addUser,
  type WebCloud,
} from "../../support/web";
import { ec2Client } from "../../support/ec2";

/**
 * A POST larger than any form, on a raw TLS socket: the server answers 413 and closes
 * before the body is sent (Node's HTTP client reports that as a hang-up, so it is read raw).
 */
function oversizedPost(url: URL, body: string, cookies: Map<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const s = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      s.write(
        `POST /admin/vm-types HTTP/1.1\r\nhost: ${url.host}\r\ncookie: ${cookie}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      s.write(body, () => undefined);
    });
    s.on("data", (b: Buffer) => parts.push(b));
    s.on("error", () => undefined);
    s.on("close", () => resolve(Buffer.concat(parts).toString("latin1")));
  });
}

/** The real time, moved on by the test (session timeout and pause expiry), or held still. */
const shifted: { offsetMs: number; frozen?: Date } = { offsetMs: 0 };
const clock: Clock = { now: () => shifted.frozen ?? new Date(Date.now() + shifted.offsetMs) };

describe("web interface: security", () => {
  let w: WebCloud;
  let admin: WebClient;
  const client = (from?: string) => new WebClient(w.url, w.t.cloud.layout.cloudCert, from);

  const userWithPassword = (name: string, password: string) => addUser(w, admin, name, password);

  beforeAll(async () => {
    w = await startWebCloud({ clock });
    admin = await adminClient(w);
  }, 60_000);
  afterAll(async () => {
    await w?.t.stop();
  });

  it("serves a certificate the cloud CA signed, naming the address it listens on", async () => {
    const pem = await new Promise<string>((resolve, reject) => {
      const req = request(w.url, { ca: client()["ca"] }, (res) => {
        const cert = (res.socket as import("node:tls").TLSSocket).getPeerCertificate();
        res.resume();
        resolve(`-----BEGIN CERTIFICATE-----\n${cert.raw.toString("base64")}\n-----END CERTIFICATE-----\n`);
      });
      req.on("error", reject);
      req.end();
    });
    expect(subjectAltNames(pem)).toEqual(expect.arrayContaining(["ip:127.0.0.1", "dns:localhost"]));
    // Without the cloud CA the certificate is not trusted.
    await expect(
      new Promise((resolve, reject) =>
        request(w.url, (r) => resolve(r.statusCode))
          .on("error", reject)
          .end(),
      ),
    ).rejects.toThrow(/certificate/i);
  });

  it("sets secure, HttpOnly, SameSite=Strict cookies and a strict CSP on every page", async () => {
    const c = client();
    const first = await c.get("/login");
    const pre = ([] as string[])
      .concat(first.headers["set-cookie"] ?? [])
      .find((x) => x.startsWith("__Host-euca_pre="))!;
    expect(pre).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Strict/);
    const r = await c.login("admin", ADMIN_NEW_PASSWORD);
    const session = ([] as string[])
      .concat(r.headers["set-cookie"] ?? [])
      .find((x) => x.startsWith("__Host-euca_session="))!;
    expect(session).toMatch(/^__Host-euca_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    for (const path of [
      "/login",
      "/apply",
      "/",
      "/instances",
      "/buckets",
      "/credentials",
      "/admin/users",
      "/admin/clusters",
      "/no-such-page",
    ]) {
      const p = await c.get(path);
      expect(p.headers["content-security-policy"], path).toMatch(
        /default-src 'none'; script-src 'self'; style-src 'self'.*frame-ancestors 'none'/,
      );
      expect(p.headers["cache-control"], path).toBe("no-store");
      expect(p.headers["x-content-type-options"], path).toBe("nosniff");
      expect(p.body, path).not.toMatch(/<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")/); // no inline scripts to allow
    }
  });

  it("refuses a form posted without its CSRF token, with another session's, or with a pre-login one", async () => {
    const c = await userWithPassword("hank", "hanks-password");
    const other = await userWithPassword("ivy", "ivys-password");
    const before = (await c.get("/key-pairs")).body;
    expect(before).not.toContain("stolen");
    const bare = await c.request("POST", "/key-pairs/create", { form: { name: "stolen", type: "rsa" } });
    expect(bare.status).toBe(403);
    expect(bare.body).toContain("This form was refused");
    const foreign = await c.request("POST", "/key-pairs/create", {
      form: { _csrf: await other.csrf("/key-pairs"), name: "stolen", type: "rsa" },
    });
    expect(foreign.status).toBe(403);
    const anon = client();
    const preToken = await anon.csrf("/login");
    expect(
      (await c.request("POST", "/key-pairs/create", { form: { _csrf: preToken, name: "stolen", type: "rsa" } })).status,
    ).toBe(403);
    // A JSON or otherwise typed body carries no token either.
    expect(
      (
        await c.request("POST", "/key-pairs/create", {
          body: JSON.stringify({ name: "stolen" }),
          headers: { "content-type": "application/json" },
        })
      ).status,
    ).toBe(403);
    expect((await c.get("/key-pairs")).body).not.toContain("stolen");
    // Logging out, too, needs the token (no forced logouts from other sites).
    expect((await c.request("POST", "/logout", { form: {} })).status).toBe(403);
    expect((await c.post("/key-pairs/create", { name: "mine", type: "ed25519" }, "/key-pairs")).body).toContain(
      "Private key of mine",
    );
  });

  it("pauses a login after five wrong passwords, longer after each, audits it, and the admin can clear it", async () => {
    await userWithPassword("jack", "jacks-password");
    const refused = async (r: Promise<WebResponse>) => {
      const x = await r;
      expect(x.status).toBe(403);
      expect(x.body).toContain(LOGIN_REFUSED);
      return x;
    };
    shifted.frozen = clock.now();
    try {
      const away = client("127.0.0.9");
      for (let i = 0; i < 5; i++) await refused(away.login("jack", `wrong-${i}`));
      // Paused for a second: even the right password is not checked from a new address.
      await refused(away.login("jack", "jacks-password"));
      expect(away.cookies.has("__Host-euca_session")).toBe(false);
      expect((await admin.get("/admin/users")).body).toMatch(/jack[\s\S]*login paused until/);
      // Each further wrong password pauses twice as long as the last.
      shifted.frozen = new Date(shifted.frozen.getTime() + 1100);
      await refused(away.login("jack", "wrong-6"));
      shifted.frozen = new Date(shifted.frozen.getTime() + 1100);
      await refused(away.login("jack", "jacks-password"));
      shifted.frozen = new Date(shifted.frozen.getTime() + 1000);
      expect((await away.login("jack", "jacks-password")).location).toBe("/");
      // From an address jack logged in from before, the right password goes through a pause.
      const other = client("127.0.0.11");
      for (let i = 0; i < 7; i++) await refused(other.login("jack", `wrong-${i}`));
      expect((await client().login("jack", "jacks-password")).location).toBe("/");
      for (let i = 0; i < 7; i++) await refused(other.login("jack", `wrong-${i}`));
      const audit = (await admin.get("/admin/audit")).body;
      expect(audit).toContain("login-refused-paused");
      await admin.post("/admin/users/action", { user: "jack", action: "unlock" }, "/admin/users");
      expect((await client("127.0.0.10").login("jack", "jacks-password")).location).toBe("/");
      // An unknown user gets the same answer, paused the same way.
      const nobody = client("127.0.0.9");
      for (let i = 0; i < 6; i++) await refused(nobody.login("nobody-here", `whatever-${i}`));
      expect((await admin.get("/admin/audit")).body).toMatch(/nobody-here<\/td><td>login-refused-paused/);
    } finally {
      shifted.frozen = undefined;
    }
  });

  it("ends a session at logout, after the idle timeout, and when its user is disabled", async () => {
    const c = await userWithPassword("kim", "kims-password");
    const cookie = c.cookies.get("__Host-euca_session")!;
    expect((await c.get("/instances")).status).toBe(200);
    expect((await c.post("/logout", {}, "/")).location).toBe("/login");
    const replay = client();
    replay.cookies.set("__Host-euca_session", cookie);
    expect((await replay.get("/instances")).location).toBe("/login?next=%2Finstances");

    const idle = client();
    await idle.login("kim", "kims-password");
    shifted.offsetMs += 31 * 60_000;
    try {
      expect((await idle.get("/instances")).location).toBe("/login?next=%2Finstances");
    } finally {
      shifted.offsetMs -= 31 * 60_000;
    }

    const c2 = client();
    await c2.login("kim", "kims-password");
    expect((await c2.get("/")).status).toBe(200);
    await admin.post("/admin/users/action", { user: "kim", action: "disable" }, "/admin/users");
    expect((await c2.get("/")).location).toBe("/login?next=%2F");
    expect((await client().login("kim", "kims-password")).status).toBe(403);
  });

  it("never lets one user see or act on another's resources by editing ids", async () => {
    const lee = await userWithPassword("lee", "lees-password");
    const mo = await userWithPassword("mo", "mos-password");
    const a = adminUser(w.t);
    const ec2 = (k: { accessKeyId: string; secretAccessKey: string }) => ec2Client(w.t.ec2Url, k, { maxAttempts: 3 });
    const image = (
      await ec2(a).send(
        new RegisterImageCommand({
          ImageLocation: await uploadBundle(w.t, a, imageFile("root.img", 50_000)),
          Name: "sec",
        }),
      )
    ).ImageId!;
    await ec2(a).send(
      new ModifyImageAttributeCommand({ ImageId: image, LaunchPermission: { Add: [{ Group: "all" }] } }),
    );
    const leeKeys = (() => {
      const { set } = w.t.cloud.identity!.credentialSetOf("lee");
      return { accessKeyId: set.accessKeyId, secretAccessKey: set.secretKey };
    })();
    const id = (await ec2(leeKeys).send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1 })))
      .Instances![0]!.InstanceId!;
    await s3(w.t, leeKeys).send(new CreateBucketCommand({ Bucket: "lee-private" }));
    await s3(w.t, leeKeys).send(new PutObjectCommand({ Bucket: "lee-private", Key: "secret.txt", Body: "lee's" }));

    expect((await lee.get(`/instances/${id}`)).status).toBe(200);
    const peek = await mo.get(`/instances/${id}`);
    expect(peek.status).toBe(404);
    expect(peek.body).not.toContain(image);
    expect((await mo.get("/instances")).body).not.toContain(id);
    const kill = await mo.post("/instances/terminate", { id }, "/instances");
    expect(kill.location).toBe("/instances");
    expect((await mo.get("/instances")).body).toContain(`The instance &#39;${id}&#39; does not exist`);
    const state = (await ec2(leeKeys).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
      .Instances![0]!.State!.Name;
    expect(["pending", "running"]).toContain(state);

    const bucket = await mo.get("/buckets/lee-private");
    expect(bucket.status).toBe(403);
    expect(bucket.body).not.toContain("secret.txt");
    await mo.post("/buckets/lee-private/delete-object", { key: "secret.txt", prefix: "" }, "/buckets");
    expect((await lee.get("/buckets/lee-private")).body).toContain("secret.txt");
    expect((await mo.post("/buckets/delete", { bucket: "lee-private" }, "/buckets")).location).toBe("/buckets");
    expect((await lee.get("/buckets")).body).toContain("lee-private");

    // Admin pages are for admins; their actions too.
    expect((await mo.get("/admin/users")).status).toBe(403);
    expect((await mo.post("/admin/users/action", { user: "lee", action: "disable" }, "/")).status).toBe(403);
    expect((await lee.get("/")).status).toBe(200);
    expect(
      (await mo.post("/admin/vm-types", { name: "m1.small", cpus: "9", memoryMb: "1", diskGb: "1" }, "/")).status,
    ).toBe(403);
  });

  it("checks every input on the server as the API does, and bounds what it reads", async () => {
    const r = await admin.post(
      "/admin/vm-types",
      { name: "m1.small", cpus: "0", memoryMb: "128", diskGb: "2" },
      "/admin/vm-types",
    );
    expect(r.location).toBe("/admin/vm-types");
    expect((await admin.get("/admin/vm-types")).body).toContain("cpus must be a positive integer");
    expect(
      (await admin.post("/admin/users/action", { user: "admin", action: "delete" }, "/admin/users")).location,
    ).toBe("/admin/users");
    expect((await admin.get("/admin/users")).body).toContain("Admins do not disable, demote or delete themselves here");
    // A form far larger than any form is refused before it is read.
    expect(await oversizedPost(new URL(w.url), `_csrf=x&name=${"a".repeat(2 * 1024 * 1024)}`, admin.cookies)).toMatch(
      /^HTTP\/1\.1 413 /,
    );
    // Only local paths after login (no open redirect).
    const c = client();
    await c.request("GET", "/login");
    const out = await c.request("POST", "/login", {
      form: { _csrf: await c.csrf("/login"), userName: "admin", password: ADMIN_NEW_PASSWORD, next: "//evil.example/" },
    });
    expect(out.location).toBe("/");
    expect((await admin.get("/instances/%3Cscript%3E")).body).not.toContain("<script>");
  });

  it("keeps passwords, session ids and secret keys out of the logs", async () => {
    const logs = w.t.logs();
    for (const secret of [
      w.adminPassword,
      ADMIN_NEW_PASSWORD,
      "hanks-password",
      "kims-password",
      admin.cookies.get("__Host-euca_session")!,
      w.t.admin.secretAccessKey,
    ]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).toContain('"api":"web"');
  });
});
