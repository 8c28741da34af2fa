// The console in a real browser (Debian's Chromium, driven by
// playwright-core) against a running `portcullis demo`: sign in, open every
// page, suspend an identity from the console and see the gateway refuse
// its next request, watch that refusal reach live decisions, acknowledge
// an alert, verify the ledger, read the last verify report, and check that
// text an attacker wrote stays text. A screenshot of each page goes to $OUT. Any failed check, page
// error or Content-Security-Policy violation fails the run (exit 1).
//
// Run by crates/portcullis/tests/console_browser.rs, which starts the demo
// and passes: CONSOLE (the console's base URL), GATEWAY, ADMIN_KEY,
// READER_ID and READER_SECRET (a client of the demo), CHROMIUM, OUT.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const env = process.env;
for (const name of ["CONSOLE", "GATEWAY", "ADMIN_KEY", "READER_ID", "READER_SECRET", "CHROMIUM", "OUT"]) {
  if (!env[name]) throw new Error(`${name} is not set`);
}
const { CONSOLE, GATEWAY, ADMIN_KEY, READER_ID, READER_SECRET, CHROMIUM, OUT } = env;
mkdirSync(OUT, { recursive: true });
const admin = CONSOLE.replace(/\/console$/, "");

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`CSP: ${m.text()}`);
    }
  });
  let shot = 0;
  const snap = async (name) => {
    shot += 1;
    await page.screenshot({ path: `${OUT}/${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true });
  };

  // Text an attacker controls: an identity's owner and environment (admin
  // API), a client id tried at the token endpoint (recorded in the ledger).
  const created = await fetch(`${admin}/admin/v1/identities`, {
    method: "POST",
    headers: { "X-Api-Key": ADMIN_KEY, "Content-Type": "application/json" },
    body: JSON.stringify({
      id: "tricky-agent", kind: "agent", owner: "<script>window.__pwned=1</script>",
      environment: "<img src=x onerror=\"window.__pwned=2\">", tags: ["<b>bold</b>"], scopes: ["orders:read"],
    }),
  });
  check(created.status === 201, `a tricky identity was made (${created.status})`);
  const tried = await fetch(`${GATEWAY}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: "<script>window.__pwned=3</script>", client_secret: "nope" }),
  });
  check(tried.status === 401, `a token request with a script as client id was refused (${tried.status})`);

  // Sign in.
  await page.goto(CONSOLE);
  check(page.url().endsWith("/console/login"), "an anonymous visit goes to sign-in");
  await snap("sign-in");
  await page.fill("input[name=secret]", ADMIN_KEY);
  await Promise.all([page.waitForURL(CONSOLE), page.click("button[type=submit]")]);
  check(await page.isVisible("text=signed in as"), "signed in");
  await snap("overview");
  check((await page.locator("svg.chart").count()) === 3, "the overview draws its three charts");

  // The inventory, and the tricky identity's text shown as text.
  await page.goto(`${CONSOLE}/inventory`);
  check(await page.getByText("<script>window.__pwned=1</script>", { exact: true }).isVisible(), "a script in an owner shows as text");
  check(await page.getByText("<img src=x onerror=\"window.__pwned=2\">", { exact: true }).isVisible(), "markup in an environment shows as text");
  check((await page.evaluate(() => window.__pwned)) === undefined, "no injected script ran");
  await snap("inventory");

  // A reader with a token, allowed before the suspension.
  const basic = Buffer.from(`${READER_ID}:${READER_SECRET}`).toString("base64");
  const issued = await fetch(`${GATEWAY}/oauth/token`, {
    method: "POST",
    headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials&scope=orders:read",
  });
  const token = (await issued.json()).access_token;
  check(typeof token === "string", "the reader got a token");
  const order = `${GATEWAY}/orders/v1/orders/9d2e4f60-7b1c-4a3d-b5e6-f70819a2b301`;
  const before = await fetch(order, { headers: { Authorization: `Bearer ${token}` } });
  check(before.status === 200, `the reader is allowed before (${before.status})`);

  // Its page: facts, credentials, usage, the matrix, recent decisions.
  await page.goto(`${CONSOLE}/identities/${READER_ID}`);
  check((await page.locator("table.matrix tbody tr").count()) > 0, "the identity page lists its operation matrix");
  await snap("identity");

  // Suspend it from the console: confirm, then the gateway refuses it.
  await page.click("a.action.suspend");
  check(page.url().endsWith(`/identities/${READER_ID}/suspend`), "suspending asks for confirmation");
  await page.fill("input[name=reason]", "checked from the browser test");
  await snap("confirm-suspend");
  await Promise.all([page.waitForURL(/done=suspend/), page.click("button.danger")]);
  check(await page.isVisible("text=Suspended: its next request is refused."), "the console says it is suspended");
  const after = await fetch(order, { headers: { Authorization: `Bearer ${token}` } });
  const refusal = await after.json();
  check(after.status === 403 && refusal.code === "identity-suspended", `the gateway refuses its next request (${after.status} ${refusal.code})`);

  // Live decisions: a refusal made now appears within 2 s, with its record.
  await page.goto(`${CONSOLE}/decisions`);
  await page.waitForTimeout(300);
  const sent = Date.now();
  const live = await fetch(order, { headers: { Authorization: `Bearer ${token}` } });
  const liveId = (await live.json()).instance;
  check(live.status === 403 && typeof liveId === "string", "another refused request");
  const row = page.locator("details.record", { hasText: liveId });
  await row.waitFor({ state: "attached", timeout: 2000 });
  const appeared = Date.now() - sent;
  check(appeared <= 2000, `the refusal appeared in live decisions after ${appeared} ms`);
  console.log(`live_ms=${appeared}`);
  await row.locator("summary").click();
  check(await row.getByText("identity-suspended").first().isVisible(), "its row shows the code");
  check(await row.locator("pre.json").isVisible(), "opening it shows the whole record");
  await snap("live-decisions");
  // The tried client id, as text.
  check(await page.getByText("<script>window.__pwned=3</script> (tried)").first().isVisible(), "a script as client id shows as text");
  check((await page.evaluate(() => window.__pwned)) === undefined, "still no injected script ran");

  // Alerts: the demo's crawler tripped the watch; acknowledge one.
  await page.goto(`${CONSOLE}/alerts`);
  check((await page.locator("table.alerts tbody tr.alert-open").count()) > 0, "the crawler's alerts are open");
  await snap("alerts");
  await Promise.all([page.waitForURL(/done=acknowledge/), page.locator("tr.alert-open button").first().click()]);
  check((await page.locator("tr.alert-acknowledged").count()) === 1, "one alert is acknowledged");

  // Posture and the audit ledger, verified from the console.
  await page.goto(`${CONSOLE}/posture`);
  check((await page.locator("table.risks tbody tr").count()) === 10, "posture lists the ten NHI risks");
  await snap("posture");
  await page.goto(`${CONSOLE}/audit`);
  await Promise.all([page.waitForURL(/done=verify/), page.click("text=Verify the ledger now")]);
  check(await page.locator("span.status.intact").first().isVisible(), "the ledger verifies intact");
  await snap("audit");

  // The last verify report (the test wrote one where the demo points).
  await page.goto(`${CONSOLE}/verify`);
  check(await page.locator("span.verdict").isVisible(), "the last verify report shows its verdict");
  check((await page.locator("table.coverage tbody tr").count()) > 0, "and its coverage matrix");
  check((await page.locator('table.coverage td[class="cell cell-"]').count()) === 0, "every cell of the matrix is filled");
  await snap("verify");

  // Signing out ends the session.
  await Promise.all([page.waitForURL(/\/console\/login$/), page.click("text=Sign out")]);
  await page.goto(`${CONSOLE}/inventory`);
  check(page.url().endsWith("/console/login"), "after signing out, pages ask to sign in again");
} finally {
  await browser.close();
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log("all console checks passed");
