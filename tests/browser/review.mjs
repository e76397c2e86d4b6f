// The privacy officer's pages in headless Chromium, driven by Playwright: certificate login,
// each task the officer has, refusal of other certificates, no Content-Security-Policy
// violation, and an axe-core accessibility check of every page. Started by the Rust test
// `ui_in_a_browser`, which runs the gateway, writes the history and checks the audit log.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('GATEWAY_URL');
const client = env('CLIENT_ID');
const anomalyUser = env('ANOMALY_USER');
const shots = env('SCREENSHOTS');
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const certificate = (stem) => [{ origin: base, certPath: `${stem}.crt`, keyPath: `${stem}.key` }];
const context = (stem) => browser.newContext({
  ignoreHTTPSErrors: true,
  clientCertificates: stem ? certificate(stem) : [],
  viewport: { width: 1280, height: 900 },
  locale: 'nl-BE',
});

const failures = [];
async function check(name, body) {
  try {
    await body();
    console.log(`ok   ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(error.stack || error).split('\n').slice(0, 6).join('\n     ')}`);
  }
}

/** Serious or critical accessibility violations on the page, as readable lines. */
async function accessibility(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  assert.ok(result.passes.length >= 10, `axe ran its rules (${result.passes.length} passed)`);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

await check('a browser without a certificate does not get a page', async () => {
  const ctx = await context(null);
  const page = await ctx.newPage();
  let refused = false;
  try {
    const response = await page.goto(`${base}/ui`);
    refused = response === null || response.status() >= 400;
  } catch {
    refused = true;
  }
  assert.ok(refused, 'the page opened without a certificate');
  await ctx.close();
});

await check("a case worker's personal certificate is refused", async () => {
  const ctx = await context(env('CASE_WORKER'));
  const page = await ctx.newPage();
  const response = await page.goto(`${base}/ui/audit`);
  assert.equal(response.status(), 403);
  await page.getByRole('heading', { name: 'Geen toegang' }).waitFor();
  assert.equal(await page.locator('nav').count(), 0, 'no menu for a refused visitor');
  await ctx.close();
});

await check("a party's own certificate (the API's) is refused", async () => {
  const ctx = await context(env('PARTY'));
  const page = await ctx.newPage();
  const response = await page.goto(`${base}/ui`);
  assert.equal(response.status(), 403);
  await ctx.close();
});

const officer = await context(env('OFFICER'));
const page = await officer.newPage();
const violations = [];
page.on('console', (message) => {
  if (message.type() === 'error') violations.push(message.text());
});
const pagesChecked = [];
async function visited(name) {
  pagesChecked.push(name);
  const found = await accessibility(page);
  assert.deepEqual(found, [], `accessibility of ${name}`);
  await page.screenshot({ path: `${shots}/ui-${name}.png`, fullPage: true });
}

await check('the officer logs in with the certificate and sees who they are', async () => {
  const response = await page.goto(`${base}/ui`);
  assert.equal(response.status(), 200);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|script-src/);
  await page.getByText('Aangemeld als privacy-officer (OCMW Gent)').waitFor();
  await visited('overview');
});

await check('the officer searches the log for a client', async () => {
  await page.getByRole('link', { name: 'Zoeken in het logboek' }).first().click();
  await page.getByLabel('Cliënt (dossier-id)').fill(client);
  await page.getByLabel('Uitkomst').selectOption('allowed');
  await page.getByRole('button', { name: 'Zoeken' }).click();
  const rows = page.locator('table.records tbody tr');
  assert.ok((await rows.count()) >= 3, 'the client has at least three allowed records');
  for (const text of await rows.allInnerTexts()) {
    assert.ok(text.includes(client) && text.includes('toegestaan'), text);
  }
  await visited('search');
});

await check("the officer opens the client's access report from the results", async () => {
  await page.locator('table.records tbody tr a').first().click();
  await page.getByRole('heading', { name: 'Wie heeft uw gegevens gezien?' }).waitFor();
  await page.getByRole('heading', { name: /OCMW Gent — maatschappelijke dienstverlening/ }).waitFor();
  await page.getByRole('heading', { name: /Amal .* — trajectbegeleiding/ }).waitFor();
  await visited('access-report');
  const print = await page.getByRole('link', { name: 'Afdrukbare versie voor de cliënt' }).getAttribute('href');
  const printable = await page.request.get(`${base}${print}`);
  assert.equal(printable.status(), 200);
  assert.doesNotMatch(await printable.text(), /<script|<link|<nav/);
});

await check('the officer sees the refusal burst among the anomalies', async () => {
  await page.getByRole('link', { name: 'Afwijkingen' }).first().click();
  const flag = page.locator('section.anomaly', { hasText: 'reeks geweigerde pogingen' });
  await flag.first().waitFor();
  assert.match(await flag.first().innerText(), new RegExp(anomalyUser));
  await visited('anomalies');
  await flag.first().getByRole('link', { name: 'Deze records opzoeken in het logboek' }).click();
  assert.ok((await page.locator('table.records tbody tr.denied').count()) >= 1);
});

await check('the officer sees accesses per day per party and per purpose', async () => {
  await page.getByRole('link', { name: 'Activiteit' }).first().click();
  const charts = page.locator('svg.chart[role="img"]');
  assert.equal(await charts.count(), 2);
  assert.ok((await page.locator('svg.chart rect').count()) >= 2, 'bars are drawn');
  await visited('activity');
});

await check('the officer verifies the whole log now', async () => {
  await page.getByRole('link', { name: 'Integriteit' }).first().click();
  await page.locator('pre.note').waitFor();
  await page.getByRole('button', { name: 'Nu nagaan' }).click();
  const result = page.locator('.result.ok');
  await result.waitFor();
  assert.match(await result.innerText(), /In orde\. \d+ records en \d+ controlepunten nagegaan/);
  await visited('integrity');
});

await check('the officer reads the register of processing activities', async () => {
  await page.getByRole('link', { name: 'Register' }).first().click();
  await page.getByRole('heading', { name: 'Register van de verwerkingsactiviteiten' }).waitFor();
  assert.ok((await page.locator('main section').count()) >= 3);
  await visited('register');
});

await check('no page broke its Content-Security-Policy or logged an error', async () => {
  assert.deepEqual(violations, []);
  assert.equal(pagesChecked.length, 7);
});

await browser.close();
if (failures.length) {
  console.log(`${failures.length} browser check(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
