// The dashboard, end to end in headless Chromium: the real wsim binary, two
// imports started through the AWS API, the page opened in Debian's
// Chromium (/usr/bin/chromium) driven by playwright-core. The clock is
// frozen and advanced with the page's own buttons, and the import's stage
// must move on the page without a reload (server-sent events); the
// catalogue must show the image with its tag; the account filter must
// narrow both lists; and wsim must stop promptly on SIGTERM with the page
// still open. A screenshot is kept in $WSIM_ARTIFACTS (default
// e2e/browser/artifacts, ignored by git).
//
//   node --test e2e/browser/      # WSIM_BIN=path/to/wsim, else built with go
//
// scripts/browser-deps.sh installs chromium and playwright-core when missing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const chromiumPath = process.env.WSIM_CHROMIUM || "/usr/bin/chromium";
const artifacts = path.resolve(process.env.WSIM_ARTIFACTS || path.join(here, "artifacts"));

const accountA = "444455556666", regionA = "eu-west-1";
const accountB = "111122223333", regionB = "us-east-1";

let wsim, base, browser, buildDir;
let wsimOutput = "";

// wsimBinary is $WSIM_BIN, else ./cmd/wsim built into a temporary directory.
function wsimBinary() {
  if (process.env.WSIM_BIN) { return process.env.WSIM_BIN; }
  buildDir = mkdtempSync(path.join(tmpdir(), "wsim-browser-"));
  const bin = path.join(buildDir, "wsim");
  execFileSync("go", ["build", "-o", bin, "./cmd/wsim"], { cwd: root, stdio: "inherit" });
  return bin;
}

// startWsim runs `wsim serve` on a free loopback port (the kernel's choice)
// and resolves to its URL once it says where it listens.
function startWsim(bin) {
  return new Promise((resolve, reject) => {
    wsim = spawn(bin, ["serve", "--store", "memory", "--profile", "quick", "--addr", "127.0.0.1:0"],
      { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => reject(new Error("wsim did not start in 20 s:\n" + wsimOutput)), 20000);
    const onData = (chunk) => {
      wsimOutput += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(wsimOutput);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    wsim.stdout.on("data", onData);
    wsim.stderr.on("data", onData);
    wsim.on("exit", (code) => { clearTimeout(timer); reject(new Error(`wsim exited with ${code}:\n${wsimOutput}`)); });
  });
}

// callAPI calls a WorkSpaces operation over AWS JSON 1.1 as the account
// and Region of the credential scope (wsim does not check the signature).
async function callAPI(account, region, operation, input) {
  const r = await fetch(base + "/", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "WorkspacesService." + operation,
      "Authorization": `AWS4-HMAC-SHA256 Credential=${account}/20260301/${region}/workspaces/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
    },
    body: JSON.stringify(input),
  });
  const body = await r.json();
  assert.equal(r.status, 200, `${operation}: ${JSON.stringify(body)}`);
  return body;
}

// importImage starts a BYOL import.
async function importImage(account, region, name, tags = []) {
  const out = await callAPI(account, region, "ImportCustomWorkspaceImage", {
    ImageName: name, ImageDescription: "Windows 11 image", ComputeType: "BASE", Protocol: "DCV",
    ImageSource: { Ec2ImageId: "ami-0123456789abcdef0" },
    InfrastructureConfigurationArn: `arn:aws:imagebuilder:${region}:${account}:infrastructure-configuration/${name}`,
    Platform: "WINDOWS", OsVersion: "Windows_11", Tags: tags,
  });
  return out.ImageId;
}

before(async () => {
  assert.ok(chromiumPath, "no Chromium");
  base = await startWsim(wsimBinary());
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  if (browser) { await browser.close(); }
  if (wsim && wsim.exitCode === null) { wsim.kill("SIGKILL"); }
  if (buildDir) { rmSync(buildDir, { recursive: true, force: true }); }
});

// stage reads "Stage N of 12: NAME" of the pipeline row of id.
async function stage(page, id) {
  const text = await page.locator(`#pipelines tr:has-text("${id}") .stage`).innerText();
  const m = /Stage (\d+) of 12: (\S+)/.exec(text);
  assert.ok(m, `no stage in ${JSON.stringify(text)}`);
  return { n: Number(m[1]), name: m[2] };
}

test("the dashboard follows an import live, in Chromium", { timeout: 90000 }, async (t) => {
  const golden = await importImage(accountA, regionA, "golden", [{ Key: "team", Value: "vdi" }]);
  const other = await importImage(accountB, regionB, "other");

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // Every request the page makes after it loaded: live updates must come
  // from the event stream, not from fetching the page again.
  const requests = [];
  page.on("request", (r) => requests.push(r.method() + " " + new URL(r.url()).pathname));
  let navigations = 0;
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) { navigations++; } });

  try {
    await page.goto(base + "/_wsim/");
    await page.waitForFunction(() => document.getElementById("status").textContent === "Live");
    await page.evaluate(() => { window.wsimMarker = "same page"; });

    // Freeze with the page's button: the clock says so, pushed.
    await page.getByRole("button", { name: "Freeze", exact: true }).click();
    await page.locator("#clock", { hasText: "frozen" }).waitFor();
    const clockFrozen = await page.locator("#clock").innerText();

    // Both imports, newest first, each with its stage.
    const rows = page.locator("#pipelines tr");
    assert.equal(await rows.count(), 2);
    assert.match(await rows.nth(0).innerText(), new RegExp(other));
    assert.match(await rows.nth(1).innerText(), new RegExp(golden));
    const before = await stage(page, golden);
    // Frozen, nothing moves.
    await page.waitForTimeout(1200);
    assert.deepEqual(await stage(page, golden), before, "the stage moved on a frozen clock");
    assert.equal(await page.locator("#clock").innerText(), clockFrozen);

    // Advance 10 s with the button: the stage moves on, and so does the clock.
    await page.getByRole("button", { name: "Advance 10 s" }).click();
    await page.waitForFunction(
      ([id, n]) => {
        const row = [...document.querySelectorAll("#pipelines tr")].find((tr) => tr.textContent.includes(id));
        const m = row && /Stage (\d+) of 12/.exec(row.querySelector(".stage").textContent);
        return m && Number(m[1]) > n;
      },
      [golden, before.n], { timeout: 10000 });
    const afterAdvance = await stage(page, golden);
    assert.notEqual(afterAdvance.name, before.name);
    assert.notEqual(await page.locator("#clock").innerText(), clockFrozen);
    t.diagnostic(`golden went from stage ${before.n} (${before.name}) to ${afterAdvance.n} (${afterAdvance.name})`);

    // The catalogue shows the image, with its tag, origin and Region.
    const image = page.locator(`#resources tr[data-kind="image"]:has-text("${golden}")`);
    await image.waitFor();
    const imageText = await image.innerText();
    for (const want of ["golden", "team=vdi", "custom-import", accountA, regionA, "PENDING"]) {
      assert.ok(imageText.includes(want), `the catalogue row of golden lacks ${want}: ${imageText}`);
    }

    // No reload happened: same document, no page fetched again.
    assert.equal(await page.evaluate(() => window.wsimMarker), "same page");
    assert.equal(navigations, 1);
    const afterLoad = requests.slice(requests.indexOf("GET /_wsim/") + 1);
    assert.deepEqual(afterLoad.filter((r) => !r.endsWith("/_wsim/events") && r !== "POST /_wsim/clock"), [],
      "the page fetched more than its event stream and the clock: " + afterLoad.join(", "));
    assert.ok(afterLoad.includes("GET /_wsim/events"), "the page did not open its event stream");

    // Completed, once advanced far enough: the row and the catalogue say so.
    await page.getByRole("button", { name: "Advance 1 min" }).click();
    await page.locator(`#pipelines tr.completed:has-text("${golden}")`).waitFor({ timeout: 10000 });
    await page.locator(`#resources tr:has-text("${golden}")`, { hasText: "AVAILABLE" }).first().waitFor({ timeout: 10000 });

    // Shared with account B: the relation and B's share appear, pushed.
    await callAPI(accountA, regionA, "UpdateWorkspaceImagePermission",
      { ImageId: golden, SharedAccountId: accountB, AllowCopyImage: true });
    await page.locator(`#resources tr[data-kind="image"]:has-text("${golden}")`, { hasText: "shared with account " + accountB }).waitFor({ timeout: 10000 });
    const share = page.locator(`#resources tr[data-kind="image-share"]:has-text("${golden}")`);
    await share.waitFor({ timeout: 10000 });
    assert.match(await share.innerText(), new RegExp("shared by " + golden + " in " + regionA + " of " + accountA));
    assert.equal(await page.evaluate(() => window.wsimMarker), "same page");

    mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic("screenshot: " + shot);
    console.log("browser test screenshot: " + shot);


    // The account filter, a link on the row, narrows both lists; its own
    // stream then follows that account only.
    await page.locator(`#pipelines tr:has-text("${golden}") a`, { hasText: accountA }).click();
    await page.waitForURL((u) => u.searchParams.get("account") === accountA);
    await page.waitForFunction(() => document.getElementById("status").textContent === "Live");
    assert.equal(await page.locator("#pipelines tr").count(), 1);
    assert.match(await page.locator("#pipelines").innerText(), new RegExp(golden));
    assert.doesNotMatch(await page.locator("#resources").innerText(), new RegExp(other));
    assert.doesNotMatch(await page.locator("#resources").innerText(), /image-share/);
    assert.equal(await page.locator('input[name="account"]').inputValue(), accountA);

    // Without JavaScript the page still shows everything.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const noJS = await plain.newPage();
    await noJS.goto(base + "/_wsim/?region=" + regionB);
    assert.match(await noJS.locator("#pipelines").innerText(), new RegExp(other));
    assert.doesNotMatch(await noJS.locator("#pipelines").innerText(), new RegExp(golden));
    await plain.close();

    assert.deepEqual(pageErrors, []);

    // SIGTERM with the page's stream open: wsim still stops at once, and cleanly.
    const exited = new Promise((resolve) => wsim.once("exit", (code, signal) => resolve({ code, signal })));
    const stopStart = Date.now();
    wsim.kill("SIGTERM");
    const { code } = await exited;
    assert.equal(code, 0, "wsim's exit after SIGTERM:\n" + wsimOutput);
    assert.ok(Date.now() - stopStart < 5000, `wsim took ${Date.now() - stopStart} ms to stop`);
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, "dashboard-failure.png");
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log("browser test failed; screenshot: " + shot);
    throw e;
  }
});
