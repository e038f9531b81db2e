// The page of `twinsync serve` in headless Chromium, two people at once.
//
// Usage: node page_test.mjs <base-url> <project-id> <screenshot-dir>
// Run by crates/twinsync-server/tests/page.rs against a real server, whose project has
// readme.md, guide/intro.md, guide/setup.md and notes/evil.md (markup meant to inject).
// Page A edits guide/intro.md; page B, in a second browser context, watches it live.
// Exits non-zero on the first failed step, or when either page logged a console error,
// threw, or opened a dialog.

import { chromium } from 'playwright-core';
import path from 'node:path';

const [base, projectId, shots] = process.argv.slice(2);
if (!base || !projectId || !shots) {
  console.error('usage: node page_test.mjs <base-url> <project-id> <screenshot-dir>');
  process.exit(2);
}
// A hung browser must fail the test, not hold it forever.
setTimeout(() => { console.error('page_test: gave up after 120 s'); process.exit(1); }, 120_000).unref();

const DOC = 'guide/intro.md';
const SAVED = '# Intro\n\nEdited **in the browser**.\n\n- one\n- two\n';
const BEHIND = '# Intro\n\nChanged behind your back.\n';
const FINAL = '# Intro\n\nSaved from the page after a reload.\n';

const problems = [];
// The one failed request the page is meant to make: the stale save, answered 412.
let allowed412 = 0;

function watch(page, name) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (allowed412 > 0 && /status of 412/.test(m.text())) { allowed412--; return; }
    problems.push(`${name} console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${name} page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`${name} dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
}

async function step(what, f) {
  try {
    await f();
    console.log(`ok: ${what}`);
  } catch (e) {
    throw new Error(`${what}: ${e.message.split('\n')[0]}`);
  }
}

const until = (page, f, arg) => page.waitForFunction(f, arg, { timeout: 10_000 });
const text = (page, sel) => page.locator(sel).innerText();
const shot = (page, name) => page.screenshot({ path: path.join(shots, name) });

async function api(method, p, { body, headers = {} } = {}) {
  const r = await fetch(base + p, {
    method, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, data: await r.json().catch(() => null) };
}

const browser = await chromium.launch({ executablePath: process.env.TWINSYNC_CHROMIUM || '/usr/bin/chromium' });
let failed = null;
try {
  const contexts = [await browser.newContext({ viewport: { width: 1200, height: 720 } }), await browser.newContext({ viewport: { width: 1200, height: 720 } })];
  const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
  watch(a, 'page A');
  watch(b, 'page B');
  const docLink = (name) => `#tree a[data-path="${name}"]`;

  await step('B opens the project: its docs as a tree, no lock', async () => {
    await b.goto(`${base}/#/p/${encodeURIComponent(projectId)}`);
    await b.locator(docLink(DOC)).waitFor();
    const folders = await b.locator('#tree summary').allInnerTexts();
    if (!folders.includes('guide/') || !folders.includes('notes/')) throw new Error(`folders ${folders}`);
    if (await b.locator('#lockbanner').isVisible()) throw new Error('a lock banner with no lock');
  });

  let ownerA = '';
  await step('A picks the project from the list and opens the doc meant to inject markup', async () => {
    await a.goto(base + '/');
    await a.locator(`#projects a[data-project="${projectId}"]`).click();
    await a.locator(docLink('notes/evil.md')).click();
    await until(a, () => document.getElementById('doc-lock').textContent.startsWith('you hold the lock'));
    ownerA = await text(a, '#me');
    if (!/^web-[0-9a-f]{6}$/.test(ownerA)) throw new Error(`owner ${ownerA}`);
    await until(a, () => document.getElementById('preview').textContent.includes('<img'));
    const injected = await a.evaluate(() => ({
      tags: document.querySelectorAll('#preview img, #preview script, #preview iframe, #preview [onerror], #preview [onclick]').length,
      scriptLinks: [...document.querySelectorAll('#preview a')].filter((l) => !/^(https?:|mailto:|[^:]*$)/i.test(l.getAttribute('href'))).length,
      pwned: window.pwned === true,
      strong: document.querySelectorAll('#preview strong').length,
    }));
    if (injected.tags || injected.scriptLinks || injected.pwned) throw new Error(`markup got through: ${JSON.stringify(injected)}`);
    if (!injected.strong) throw new Error('the preview did not render markdown');
    await shot(a, '0-a-escaped-markup.png');
  });

  await step('B sees the lock banner live, naming A', async () => {
    await until(b, (o) => { const e = document.getElementById('lockbanner'); return !e.hidden && e.textContent.includes(o); }, ownerA);
    await shot(b, '1-b-lock-banner.png');
  });

  await step('A opens the doc to edit; B opens it read-only', async () => {
    await a.locator(docLink(DOC)).click();
    await until(a, () => document.getElementById('text').value.startsWith('# Intro'));
    await b.locator(docLink(DOC)).click();
    await until(b, () => document.getElementById('text').value.startsWith('# Intro'));
    const ro = await b.evaluate(() => [document.getElementById('text').readOnly, document.getElementById('save').disabled]);
    if (!ro[0] || !ro[1]) throw new Error(`B can edit under A's lock: readOnly, save disabled = ${ro}`);
    if (await a.locator('#text').evaluate((t) => t.readOnly)) throw new Error('A cannot edit with the lock');
  });

  await step('A edits (the preview follows) and saves', async () => {
    await a.locator('#text').fill(SAVED);
    await until(a, () => document.querySelector('#preview strong')?.textContent === 'in the browser' && document.querySelectorAll('#preview li').length === 2);
    await shot(a, '2-a-editing.png');
    await a.locator('#save').click();
    await until(a, () => document.getElementById('doc-notice').textContent.startsWith('Saved: version'));
  });

  await step('B sees the update live', async () => {
    await until(b, (s) => document.getElementById('text').value === s, SAVED);
    await until(b, () => document.querySelector('#preview strong')?.textContent === 'in the browser');
    const note = await text(b, '#doc-notice');
    if (!note.includes('Updated live')) throw new Error(`notice ${note}`);
    await shot(b, '3-b-live-update.png');
  });

  await step('a change behind A\'s unsaved edits: offered a reload, then a save gets 412', async () => {
    await a.locator('#text').fill(SAVED + '\nunsaved line\n');
    const cur = await api('GET', `/projects/${projectId}/docs/${DOC}`);
    const put = await api('PUT', `/projects/${projectId}/docs/${DOC}`, {
      headers: { 'If-Match': cur.data.digest }, body: { content: BEHIND, actor: ownerA },
    });
    if (put.status !== 200) throw new Error(`the PUT behind A's back: ${put.status} ${JSON.stringify(put.data)}`);
    await until(a, () => document.getElementById('doc-notice').textContent.includes('changed by someone else while you were editing'));
    allowed412 = 1;
    await a.locator('#save').click();
    await until(a, () => document.getElementById('doc-notice').textContent.includes('changed by someone else since you loaded it'));
    // The browser logs the 412 as it arrives; give the log a moment, then allow no more.
    for (let i = 0; allowed412 && i < 20; i++) await new Promise((r) => setTimeout(r, 50));
    allowed412 = 0;
    await shot(a, '4-a-stale-save.png');
    await a.locator('#reload').click();
    await until(a, (s) => document.getElementById('text').value === s, BEHIND);
    await a.locator('#text').fill(FINAL);
    await a.locator('#save').click();
    await until(a, () => document.getElementById('doc-notice').textContent.startsWith('Saved: version'));
    await until(b, (s) => document.getElementById('text').value === s, FINAL);
  });

  await step('A closes the editor: B\'s banner goes live and B takes the lock', async () => {
    await a.locator('#close').click();
    await until(b, () => document.getElementById('lockbanner').hidden && document.getElementById('doc-lock').textContent.startsWith('you hold the lock'));
    if (await b.locator('#text').evaluate((t) => t.readOnly)) throw new Error('B is still read-only');
    await shot(b, '5-b-after-release.png');
  });

  await step('B leaves the page: the lock is released on pagehide', async () => {
    await b.goto('about:blank');
    for (let i = 0; ; i++) {
      const l = await api('GET', `/projects/${projectId}/lock`);
      if (l.data.locked === false) break;
      if (i === 50) throw new Error(`still locked: ${JSON.stringify(l.data)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  await step('A: history lists the saves, undo of the newest one leaves drift to see', async () => {
    await a.locator('#to-history').click();
    await a.locator('#history button.undo').first().waitFor();
    const rows = await a.locator('#history button.undo').count();
    if (rows < 3) throw new Error(`${rows} operations in the history`);
    await shot(a, '6-a-history.png');
    await a.locator('#history button.undo').first().click();
    await a.locator('#undo-result').waitFor();
    const r = await text(a, '#undo-result');
    if (!r.startsWith('Undid') || !r.includes('1 restored')) throw new Error(`undo: ${r}`);
    await a.locator('#to-drift').click();
    await until(a, (d) => [...document.querySelectorAll('#panel td')].some((td) => td.textContent === d), DOC);
    await shot(a, '7-a-drift.png');
  });

  await step('A: coverage of the design pair, as the HTML report shows it', async () => {
    await a.locator('#to-coverage').click();
    await a.locator('#coverage tr[data-component="Button"]').waitFor();
    const totals = await text(a, '#coverage-totals');
    if (!/^3 components, \d+ of \d+ variants have a story/.test(totals)) throw new Error(`totals: ${totals}`);
    const rows = await a.locator('#coverage tr[data-component]').count();
    if (rows !== 3) throw new Error(`${rows} component rows`);
    const bars = await a.locator('#coverage .bar > span').count();
    if (bars !== 3) throw new Error(`${bars} bars`);
    const orphans = await text(a, '#panel');
    if (!orphans.includes('widgets-ghost--default')) throw new Error('the story of no known component is not listed');
    await shot(a, '8-a-coverage.png');
  });
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
if (failed) problems.unshift(`FAILED ${failed.message}`);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('page_test: all steps passed');
