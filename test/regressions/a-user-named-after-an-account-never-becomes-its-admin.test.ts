/**
 * Regression (issue 25, item 1): applying as `eucalyptus` put the new user in the
 * admin's account, and IAM took "user name equals account name" for the account's
 * admin, so `iam create-access-key --user-name admin` handed out a cloud-admin key.
 * The same through the admin's Add-user form and `euca admin user create`, and for any
 * account whose name was no user's. Now a user made without an account gets a new
 * one (refused when one of that name exists, at apply and again at confirm), reserved
 * names cannot be asked for, the owner is recorded (never inferred), and only a
 * cloud admin manages a cloud admin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { WebClient } from "../support/web-client";
import { adminClient, applyForAccount, startWebCloud, type WebCloud } from "../support/web";
import { join } from "node:path";
import { main } from "../../src/cli/program";
import { openRoleDatabase } from "../../src/db/open";
import { CLC_APPLICATION_ID, openClcDatabase } from "../../src/roles/clc/database";
import { clcMigrations } from "../../src/roles/clc/migrations";
import { clcSchema } from "../../src/roles/clc/schema";
import { tempDir } from "../support/cloud";
import type { Creds } from "../support/s3";

let w: WebCloud;
let admin: WebClient;
const iam = (c: Creds) =>
  new IAMClient({
    endpoint: `${new URL(w.t.ec2Url).origin}/services/Euare`,
    region: "eucalyptus",
    credentials: c,
    maxAttempts: 1,
  });
const identity = () => w.t.cloud.identity!;
const anon = () => new WebClient(w.url, w.t.cloud.layout.cloudCert);

beforeAll(async () => {
  w = await startWebCloud();
  admin = await adminClient(w);
}, 60_000);
afterAll(() => w.t.stop());

describe("a user named after an account", () => {
  it("cannot apply for the admin's account, a reserved name, or any account that exists", async () => {
    await identity().createUser("member", { account: "labgroup" }); // an account whose name is no user's
    for (const [name, status] of [
      ["eucalyptus", 400],
      ["admin", 400],
      ["Root", 400],
      ["labgroup", 409],
      ["member", 409],
    ] as const) {
      const r = await applyForAccount(anon(), name);
      expect(r.status, name).toBe(status);
    }
    expect(identity().findUser({ name: "eucalyptus" })).toBeUndefined();
    expect(identity().findUser({ name: "labgroup" })).toBeUndefined();
  });

  it("is refused at confirm when the account appeared after the application", async () => {
    expect((await applyForAccount(anon(), "latecomer")).status).toBe(200);
    await identity().createUser("someone", { account: "latecomer" });
    const page = (await admin.get("/admin/applications")).body;
    const id =
      new RegExp(`name="id" value="(app-[0-9a-f]+)"[^]*?latecomer`).exec(page)?.[1] ??
      /name="id" value="(app-[0-9a-f]+)"/.exec(page)![1]!;
    expect((await admin.post("/admin/applications/approve", { id }, "/admin/applications")).status).toBe(303);
    const code = /confirm\?code=([\w-]+)/.exec((await admin.get("/admin/outbox")).body)![1]!;
    const c = anon();
    const r = await c.post("/confirm", { code }, `/confirm?code=${code}`);
    expect(r.status).toBe(409);
    expect(r.body).toContain("The account &#39;latecomer&#39; already exists");
    expect(identity().findUser({ name: "latecomer" })).toBeUndefined();
    expect(identity().getUser("someone").isAccountOwner).toBe(true);
  });

  it("cannot be made in someone else's account by the Add-user form or the command line", async () => {
    for (const [userName, status] of [
      ["eucalyptus", 400],
      ["labgroup", 409],
    ] as const) {
      const r = await admin.post("/admin/users/add", { userName, fullName: "x", email: "" }, "/admin/users");
      expect(r.status, userName).toBe(status);
      expect(identity().findUser({ name: userName })).toBeUndefined();
    }
    let err = "";
    const code = await main(["admin", "user", "create", "labgroup", "--data-dir", w.t.cloud.layout.root], {
      env: {},
      out: () => undefined,
      err: (t) => (err += t),
    });
    expect(code).not.toBe(0);
    expect(err).toMatch(/account 'labgroup' already exists/);
    expect(identity().findUser({ name: "labgroup" })).toBeUndefined();
  });

  it("a member of the admin's account, whatever its name, is not the account's admin in IAM", async () => {
    const ops = await identity().createUser("ops", { account: "eucalyptus" });
    const creds = { accessKeyId: ops.accessKeyId, secretAccessKey: identity().lookupSecret(ops.accessKeyId)! };
    await expect(iam(creds).send(new CreateAccessKeyCommand({ UserName: "admin" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
    expect((await iam(creds).send(new ListUsersCommand({}))).Users!.map((u) => u.UserName)).toEqual(["ops"]);
    expect(identity().getUser("ops").isAccountOwner).toBe(false);
    expect(identity().getUser("admin").isAccountOwner).toBe(true);
  });

  it("an account's owner manages its users, but not a cloud admin placed in its account", async () => {
    const bob = await w.t.createUser("bob");
    await iam(bob).send(new CreateUserCommand({ UserName: "bob-helper" }));
    expect(
      (await iam(bob).send(new CreateAccessKeyCommand({ UserName: "bob-helper" }))).AccessKey!.AccessKeyId,
    ).toBeTruthy();
    await identity().createUser("bob-operator", { account: "bob", admin: true });
    await expect(iam(bob).send(new CreateAccessKeyCommand({ UserName: "bob-operator" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });

  it("the migration keeps each account's owner and gives nobody else the flag", () => {
    const file = join(tempDir(), "clc.db");
    const spec = { role: "clc", applicationId: CLC_APPLICATION_ID, schema: clcSchema };
    // The database as it was before the owners' migration (later ones run after it, as an upgrade would).
    const owners = clcMigrations.findIndex((m) => m.name.startsWith("account owners recorded explicitly"));
    const before = openRoleDatabase(file, { ...spec, migrations: clcMigrations.slice(0, owners) });
    const account = before.sqlite.prepare("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)");
    const user = before.sqlite.prepare(
      "INSERT INTO users (id, account_id, name, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    account.run("000000000001", "eucalyptus", 1);
    user.run("AID1", "000000000001", "admin", 1, 1);
    user.run("AID2", "000000000001", "eucalyptus", 0, 5); // the attack's result: not an owner
    account.run("000000000002", "bob", 2);
    user.run("AID3", "000000000002", "bob", 0, 2);
    user.run("AID4", "000000000002", "bob-helper", 0, 3);
    account.run("000000000003", "lab", 3);
    user.run("AID5", "000000000003", "carol", 0, 3); // made for carol with --account lab
    user.run("AID6", "000000000003", "lab", 0, 4); // a sign-up named after it, later
    before.close();
    const after = openClcDatabase(file);
    expect(after.sqlite.prepare("SELECT name FROM users WHERE is_account_owner = 1 ORDER BY name").all()).toEqual([
      { name: "admin" },
      { name: "bob" },
    ]);
    after.close();
  });
});
