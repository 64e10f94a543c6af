/**
 * The user's and the admin's cloud in the web interface, in Debian's Chromium: run an
 * instance and watch its state change without reloading, a browser upload straight to
 * Walrus and a download through a presigned URL, key pairs and groups, the admin
 * changing a VM type and the capacity chart following. Every page is checked with axe.
 */
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../support/cloud";
import { adminUser, imageFile, uploadBundle } from "../../support/bundles";
import { s3 } from "../../support/s3";
import { canBrowse, expectAccessible, launchBrowser, newContext, screenshot } from "../../support/browser";
import { firstAdminLogin, flash, login, runFromPage, startWebCloud, visit, type WebCloud } from "../../support/web";
import { ec2Client } from "../../support/ec2";

describe.runIf(canBrowse)("web interface: the cloud", () => {
  let w: WebCloud;
  let browser: Browser;
  let imageId: string;
  let admin: Page;
  let user: Page;
  let userKeys: { accessKeyId: string; secretAccessKey: string };
  const ec2 = (k: { accessKeyId: string; secretAccessKey: string }) => ec2Client(w.t.ec2Url, k, { maxAttempts: 3 });

  beforeAll(async () => {
    w = await startWebCloud({ settings: { publicIps: "192.0.2.10-192.0.2.12" } });
    browser = await launchBrowser();
    const a = adminUser(w.t);
    imageId = (
      await ec2(a).send(
        new RegisterImageCommand({
          ImageLocation: await uploadBundle(w.t, a, imageFile("root.img", 100_000)),
          Name: "web-test",
        }),
      )
    ).ImageId!;
    await ec2(a).send(
      new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ Group: "all" }] } }),
    );
    admin = await (await newContext(browser, w.url)).newPage();
    await firstAdminLogin(admin, w);
    // A user the admin adds, who chooses a password at the first login.
    await admin.goto("/admin/users");
    const add = admin.getByRole("group", { name: "Add a user" });
    await add.getByLabel("User name").fill("gina");
    await add.getByRole("button", { name: "Add" }).click();
    const temp = (await admin.locator("main code").textContent())!.trim();
    user = await (await newContext(browser, w.url)).newPage();
    await login(user, "gina", temp);
    await user.getByLabel("Current password").fill(temp);
    await user.getByLabel("New password", { exact: true }).fill("ginas-password");
    await user.getByLabel("New password again").fill("ginas-password");
    await user.getByRole("button", { name: "Change the password" }).click();
    const { set } = w.t.cloud.identity!.credentialSetOf("gina");
    userKeys = { accessKeyId: set.accessKeyId, secretAccessKey: set.secretKey };
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await w?.t.stop();
  });

  it("runs an instance, which the page follows to running and, terminated elsewhere, to terminated, without reloading", async () => {
    await visit(user, "/instances", "instances-empty");
    const run = user.getByRole("group", { name: "Run an instance" });
    await run.getByLabel("Image").selectOption(imageId);
    await run.getByLabel("Type").selectOption("m1.small");
    await run.getByLabel("Security groups").selectOption("default");
    await run.getByRole("button", { name: "Run" }).click();
    const id = /i-[0-9a-f]+/.exec((await flash(user))!)![0];
    const row = user.locator(`#instances tr[data-id="${id}"]`);
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 20_000 }).toBe("running");
    await visit(user, "/instances", "instances-running");
    // From now on the page is not loaded again: a marker on the window survives only that way.
    await user.evaluate("window.notReloaded = true");
    await ec2(userKeys).send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 20_000 }).toBe("terminated");
    expect(await row.locator('[data-f="state"]').textContent()).toBe("terminated");
    expect(await user.evaluate("window.notReloaded")).toBe(true);
    expect(await user.locator("#live-status").textContent()).toContain(`${id} is terminated`);
  }, 60_000);

  it("shows an instance's details and console, and reboots and terminates from the page", async () => {
    const id = await runFromPage(user, imageId);
    await expect
      .poll(
        async () =>
          (await ec2(userKeys).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
            .Instances![0]!.State!.Name,
        { timeout: 20_000 },
      )
      .toBe("running");
    await visit(user, `/instances/${id}`, "instance-detail");
    await user.getByRole("button", { name: "Reboot" }).click();
    expect(await flash(user)).toContain(`${id} is rebooting`);
    await user.getByRole("button", { name: `Terminate ${id}` }).click();
    expect(await flash(user)).toContain(`${id} is terminating`);
  }, 60_000);

  it("stops, starts and makes an image of an EBS-backed instance from its page; the images page shows root devices", async () => {
    const k = ec2(userKeys);
    const vol = (await k.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "cluster1" }))).VolumeId!;
    await expect
      .poll(async () => (await k.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State, {
        timeout: 20_000,
      })
      .toBe("available");
    const snap = (await k.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await expect
      .poll(async () => (await k.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State, {
        timeout: 20_000,
      })
      .toBe("completed");
    const emi = (
      await k.send(
        new RegisterImageCommand({
          Name: "gina-ebs",
          RootDeviceName: "/dev/sda1",
          BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snap } }],
        }),
      )
    ).ImageId!;
    const id = (await k.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId!;
    const state = async () =>
      (await k.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;
    await expect.poll(state, { timeout: 20_000 }).toBe("running");
    await visit(user, `/instances/${id}`, "instance-detail-ebs");
    expect(await user.locator("main dl").textContent()).toContain("ebs (/dev/sda1)");
    await user.getByRole("button", { name: "Stop" }).click();
    expect(await flash(user)).toContain(`${id} is stopping`);
    await expect.poll(state, { timeout: 20_000 }).toBe("stopped");
    await visit(user, `/instances/${id}`, "instance-detail-stopped");
    await user.getByRole("button", { name: "Start" }).click();
    expect(await flash(user)).toContain(`${id} is starting`);
    await expect.poll(state, { timeout: 20_000 }).toBe("running");
    await visit(user, `/instances/${id}`, "instance-detail-ebs");
    const make = user.getByRole("group", { name: "Create an image of it" });
    await make.getByLabel("Image name").fill("gina-made");
    await make.getByLabel(/Without stopping it/).check();
    await make.getByRole("button", { name: "Create image" }).click();
    expect(await flash(user)).toMatch(/emi-[0-9a-f]+ is being made of/);
    await visit(user, "/images", "images-root-devices");
    const made = user.locator("tr", { hasText: "gina-made" });
    await expect.poll(async () => (await made.locator("td").nth(2).textContent())?.trim()).toBe("ebs");
    await k.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  }, 90_000);

  it("uploads a file from the browser straight to Walrus and downloads it through a presigned URL", async () => {
    await visit(user, "/buckets", "buckets");
    await user.getByLabel("Name").fill("gina-files");
    await user.getByRole("button", { name: "Create" }).click();
    expect(await flash(user)).toContain("Created gina-files");
    await user.getByRole("link", { name: "gina-files" }).click();
    await expectPath(user, "/buckets/gina-files");
    const file = join(tempDir("web-upload-"), "notes & <data>.txt");
    const content = `measurements ${Date.now()}\n`;
    writeFileSync(file, content);
    await user.getByLabel("File", { exact: true }).setInputFiles(file);
    await user.getByRole("button", { name: "Upload" }).click();
    expect(await flash(user)).toContain("Uploaded notes & <data>.txt");
    await visit(user, "/buckets/gina-files", "bucket-objects");
    // Walrus has it, byte for byte, under the user's account.
    const got = await s3(w.t, userKeys).send(new GetObjectCommand({ Bucket: "gina-files", Key: "notes & <data>.txt" }));
    expect(await got.Body!.transformToString()).toBe(content);
    const href = (await user.getByRole("link", { name: "notes & <data>.txt" }).getAttribute("href"))!;
    expect(href).toContain("Signature=");
    const [download] = await Promise.all([
      user.waitForEvent("download"),
      user.getByRole("link", { name: "notes & <data>.txt" }).click(),
    ]);
    const saved = join(tempDir("web-download-"), "got.txt");
    await download.saveAs(saved);
    expect((await import("node:fs")).readFileSync(saved, "utf8")).toBe(content);
    await user.getByRole("button", { name: "Delete notes & <data>.txt" }).click();
    expect(await flash(user)).toContain("Deleted notes & <data>.txt");
  }, 60_000);

  it("creates a key pair whose private key is shown once, and edits a group's rules", async () => {
    await visit(user, "/key-pairs", "key-pairs");
    await user.getByRole("group", { name: "Create a key pair" }).getByLabel("Name").fill("laptop");
    await user.getByRole("group", { name: "Create a key pair" }).getByRole("button", { name: "Create" }).click();
    const key = await user.getByLabel("Private key of laptop").inputValue();
    expect(key).toContain("PRIVATE KEY");
    await expectAccessible(user);
    await screenshot(user, "key-pair-created");
    await visit(user, "/key-pairs");
    expect(await user.content()).not.toContain(key.split("\n")[1]);
    expect(w.t.logs()).not.toContain(key.split("\n")[1]);

    await visit(user, "/security-groups", "security-groups");
    const g = user.getByRole("group", { name: "Allow into default" });
    await g.getByLabel("From port (ICMP: type)").fill("22");
    await g.getByLabel("Source").fill("192.0.2.0/24");
    await g.getByRole("button", { name: "Allow" }).click();
    expect(await flash(user)).toContain("in force in default");
    await expect
      .poll(() => user.getByRole("table", { name: "Rules of default" }).textContent())
      .toContain("tcp port 22 from 192.0.2.0/24");
    // An invalid rule is said in plain words, as EC2 says it.
    await user.getByRole("group", { name: "Allow into default" }).getByLabel("From port (ICMP: type)").fill("22");
    await user.getByRole("group", { name: "Allow into default" }).getByLabel("Source").fill("192.0.2.0/33");
    await user.getByRole("group", { name: "Allow into default" }).getByRole("button", { name: "Allow" }).click();
    expect(await flash(user)).toContain("is not a valid CIDR block");
    await user.getByRole("button", { name: "Revoke tcp port 22 from 192.0.2.0/24" }).click();
    expect(await flash(user)).toContain("revoked");
    for (const p of ["/", "/images", "/addresses", "/volumes", "/snapshots"])
      await visit(user, p, `user${p === "/" ? "-dashboard" : p.replace("/", "-")}`);
  }, 60_000);

  it("allocates and associates an address, makes a volume, attaches it, snapshots it, and lets them go, from the pages", async () => {
    const id = await runFromPage(user, imageId);
    await expect
      .poll(() => user.locator(`#instances tr[data-id="${id}"]`).getAttribute("data-state"), { timeout: 20_000 })
      .toBe("running");

    await visit(user, "/addresses");
    await user.getByRole("button", { name: "Allocate an address" }).click();
    const ip = /192\.0\.2\.\d+/.exec((await flash(user))!)![0];
    await user.getByLabel(`Instance for ${ip}`).selectOption(id);
    await user.getByRole("button", { name: "Associate" }).click();
    expect(await flash(user)).toContain(`${ip} now reaches ${id}`);
    const described = (await ec2(userKeys).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!
      .Instances![0]!;
    expect(described.PublicIpAddress).toBe(ip);
    await visit(user, "/addresses", "addresses");
    await user.getByRole("button", { name: `Disassociate ${ip}` }).click();
    await user.getByRole("button", { name: `Release ${ip}` }).click();
    expect(await flash(user)).toContain(`Released ${ip}`);

    await user.goto("/volumes");
    const create = user.getByRole("group", { name: "Create a volume" });
    await create.getByLabel("Size (GiB)").fill("1");
    await create.getByRole("button", { name: "Create" }).click();
    const vol = /vol-[0-9a-f]+/.exec((await flash(user))!)![0];
    const row = () => user.getByRole("row", { name: new RegExp(vol) });
    await expect
      .poll(async () => (await user.reload(), await row().textContent()), { timeout: 20_000 })
      .toContain("available");
    await row().getByLabel(`Instance for ${vol}`).selectOption(id);
    await row().getByRole("button", { name: "Attach" }).click();
    expect(await flash(user)).toContain(`${vol} is attached to ${id}`);
    await expect
      .poll(async () => (await user.reload(), await row().textContent()), { timeout: 20_000 })
      .toContain("in-use");
    await visit(user, "/volumes", "volumes");
    await row()
      .getByRole("button", { name: `Snapshot ${vol}` })
      .click();
    const snap = /snap-[0-9a-f]+/.exec((await flash(user))!)![0];
    await expect
      .poll(async () => (await user.reload(), await user.getByRole("row", { name: new RegExp(snap) }).textContent()), {
        timeout: 30_000,
      })
      .toContain("completed");
    await visit(user, "/snapshots", "snapshots");
    await user.getByRole("button", { name: `Delete ${snap}` }).click();
    expect(await flash(user)).toContain(`Deleted ${snap}`);
    await user.goto("/volumes");
    await row()
      .getByRole("button", { name: `Detach ${vol}` })
      .click();
    await expect
      .poll(async () => (await user.reload(), await row().textContent()), { timeout: 20_000 })
      .toContain("available");
    await row()
      .getByRole("button", { name: `Delete ${vol}` })
      .click();
    expect(await flash(user)).toContain(`Deleting ${vol}`);
  }, 120_000);

  it("the admin changes a VM type and the capacity chart follows", async () => {
    await visit(admin, "/admin/clusters", "admin-clusters");
    const drawn = async () =>
      JSON.parse((await admin.locator('canvas[data-zone="cluster1"]').getAttribute("data-drawn")) ?? "[]") as Array<{
        name: string;
        free: number;
        max: number;
      }>;
    await expect.poll(async () => (await drawn()).find((t) => t.name === "m1.large")?.max).toBe(2);
    await visit(admin, "/admin/vm-types", "admin-vm-types");
    await admin.getByLabel("Memory of m1.large (MB)").fill("1024");
    await admin.getByRole("button", { name: "Save m1.large" }).click();
    expect(await flash(admin)).toContain("Saved m1.large: 2 CPU, 1024 MB");
    await admin.goto("/admin/clusters");
    await expect.poll(async () => (await drawn()).find((t) => t.name === "m1.large")?.max).toBe(2);
    await admin.getByRole("link", { name: "VM types" }).click();
    await admin.getByLabel("CPUs of m1.large").fill("4");
    await admin.getByRole("button", { name: "Save m1.large" }).click();
    await admin.goto("/admin/clusters");
    // 4 cores: one 4-CPU m1.large fits where two 2-CPU ones did.
    await expect.poll(async () => (await drawn()).find((t) => t.name === "m1.large")?.max).toBe(1);
    expect(await admin.locator('td[data-type="m1.large"][data-f="max"]').textContent()).toBe("1");
    await screenshot(admin, "admin-clusters-changed");
    await admin.goto("/admin/vm-types");
    // The form refuses a zero before it is sent (and the server would too: test/api/web/security.test.ts).
    await admin.getByLabel("CPUs of m1.large").fill("0");
    await admin.getByRole("button", { name: "Save m1.large" }).click();
    expect(
      await admin
        .getByLabel("CPUs of m1.large")
        .evaluate((el) => (el as unknown as { validity: { rangeUnderflow: boolean } }).validity.rangeUnderflow),
    ).toBe(true);
    for (const p of ["/", "/admin/settings", "/admin/audit", "/admin/users"])
      await visit(admin, p, `admin${p === "/" ? "-dashboard" : p.replace(/\//g, "-")}`);
  }, 60_000);

  it("fits a phone-sized screen", async () => {
    const ctx = await newContext(browser, w.url, { mobile: true });
    const phone = await ctx.newPage();
    await login(phone, "gina", "ginas-password");
    await visit(phone, "/instances", "phone-instances");
    // Nothing but the tables' own scrolling box is wider than the screen.
    expect(await phone.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await ctx.close();
  }, 30_000);
});

async function expectPath(page: Page, path: string): Promise<void> {
  await expect.poll(() => decodeURIComponent(new URL(page.url()).pathname)).toBe(path);
}
