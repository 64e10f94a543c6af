/** The cloud's mail through a real SMTP server (smtp-server, on loopback): sent, and kept in the outbox as sent. */
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../../support/web-client";
import { adminClient, startWebCloud, type WebCloud } from "../../support/web";

describe("web interface: mail over SMTP", () => {
  const received: Array<{ to: string[]; data: string }> = [];
  let smtp: SMTPServer;
  let w: WebCloud;
  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, session, done) {
        let data = "";
        stream.on("data", (b: Buffer) => (data += b.toString("utf8")));
        stream.on("end", () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    w = await startWebCloud({
      settings: {
        smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
        mailFrom: "cloud@example.org",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await w?.t.stop();
    await new Promise<void>((resolve) => smtp?.close(resolve));
  });

  it("mails the admins of an application and the applicant of its approval", async () => {
    const anon = new WebClient(w.url, w.t.cloud.layout.cloudCert);
    const r = await anon.request("POST", "/apply", {
      form: {
        _csrf: await anon.csrf("/apply"),
        userName: "nora",
        password: "noras-password",
        password2: "noras-password",
        fullName: "Nora",
        email: "nora@example.org",
      },
    });
    expect(r.body).toContain("your application was sent");
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]!.to).toEqual(["admin@localhost"]);
    expect(received[0]!.data).toMatch(/^From: cloud@example\.org/m);
    expect(received[0]!.data).toContain("Subject: [euca] account application from nora");

    const admin = await adminClient(w);
    const id = /name="id" value="(app-[0-9a-f]+)"/.exec((await admin.get("/admin/applications")).body)![1]!;
    await admin.post("/admin/applications/approve", { id }, "/admin/applications");
    await expect.poll(() => received.length).toBe(2);
    expect(received[1]!.to).toEqual(["nora@example.org"]);
    const link = /https:\/\/\S+\/confirm\?code=[A-Za-z0-9_-]+/.exec(
      received[1]!.data
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    )![0];
    const page = new WebClient(w.url, w.t.cloud.layout.cloudCert);
    const confirmed = await page.request("POST", "/confirm", {
      form: {
        _csrf: await page.csrf(new URL(link).pathname + new URL(link).search),
        code: new URL(link).searchParams.get("code")!,
      },
    });
    expect(confirmed.status).toBe(303);
    expect((await page.login("nora", "noras-password")).location).toBe("/");
    const outbox = (await admin.get("/admin/outbox")).body;
    expect(outbox.match(/ · sent</g)).toHaveLength(2);
    // The log names recipients and subjects, never a link's code.
    expect(w.t.logs()).toContain("mail: sent");
    expect(w.t.logs()).not.toContain(new URL(link).searchParams.get("code")!);
  });
});
