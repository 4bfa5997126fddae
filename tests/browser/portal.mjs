// Portal test in real headless Chromium: search, open a subject, switch language,
// check that no personal ID appears unmasked, and save a screenshot of the subject
// page as an artifact (target/artifacts/subject-page.png); then sign in as the demo
// officer, check a listed entity before a government procurement, see 禁止 with the
// measure's legal basis, and give feedback (target/artifacts/check-page.png).
// Usage: node tests/browser/portal.mjs [path/to/xinyong]
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const bin = process.argv[2] || 'target/debug/xinyong';
const data = mkdtempSync(join(tmpdir(), 'xinyong-portal-'));
const port = 18000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--demo', '--demo-subjects', '400', '--demo-records', '3000',
  '--data', data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'inherit', 'inherit'] });
const stop = () => { try { server.kill('SIGTERM'); } catch { /* already gone */ } };
process.on('exit', stop);

async function waitUp() {
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch { /* not yet */ }
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

// GB 11643: 17 digits, a real birth date, and the mod-11 check character
function isResidentId(c) {
  if (!/^\d{17}[\dX]$/.test(c)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...c.slice(0, 17)].reduce((s, d, i) => s + Number(d) * w[i], 0);
  const y = +c.slice(6, 10), m = +c.slice(10, 12), d = +c.slice(12, 14);
  const date = new Date(Date.UTC(y, m - 1, d));
  return '10X98765432'[sum % 11] === c[17] && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1900;
}

// natural persons' IDs in the demo data: none may appear on any page
function personIds() {
  const file = join(data, 'demo-input', 'dishonest_debtor.csv');
  const lines = readFileSync(file, 'utf8').split('\n');
  const col = lines[0].split(',').indexOf('证件号码/统一社会信用代码');
  return lines.slice(1).map(l => l.split(',')[col]).filter(c => c && isResidentId(c));
}

let failed = false;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  await waitUp();
  const ids = personIds();
  assert.ok(ids.length > 0, 'demo data has natural persons');
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const seenText = [];

  // home → search by a word of a real name
  await page.goto(base + '/');
  assert.match(await page.title(), /信用信息公示平台/);
  // a penalised company from the demo data, so the screenshot shows records
  const pen = readFileSync(join(data, 'demo-input', 'admin_penalty.csv'), 'utf8').split('\n');
  const header = pen[0].split(',');
  const codes = pen.slice(1).map(l => l.split(',')[header.indexOf('统一社会信用代码')]).filter(c => /^91[0-9A-Z]{16}$/.test(c || ''));
  let target = null;
  for (const code of codes.slice(0, 100)) {
    const s = await (await fetch(`${base}/api/v1/subjects/${code}`)).json();
    if (s.records && s.records.some(r => r.item === 'admin_penalty')) { target = s; break; }
  }
  assert.ok(target, 'a subject with a public penalty');
  await page.fill('#q', target.name);
  await Promise.all([page.waitForNavigation(), page.click('form[role=search] button')]);
  seenText.push(await page.content());
  const first = page.locator('ol.results a.result').first();
  assert.equal((await first.textContent()).trim(), target.name, 'exact name ranks first');
  await Promise.all([page.waitForNavigation(), first.click()]);
  assert.equal((await page.locator('h1.name').textContent()).trim(), target.name);
  assert.ok(await page.locator('#sec-penalties').count() === 1, 'penalty section present');
  seenText.push(await page.content());
  mkdirSync('target/artifacts', { recursive: true });
  await page.screenshot({ path: 'target/artifacts/subject-page.png', fullPage: true });
  await page.screenshot({ path: 'target/artifacts/subject-page-top.png' });

  // language switch
  await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok((await page.content()).includes('Basic information'));
  await page.goto(base + '/');
  assert.ok((await page.content()).includes('Credit Information Publicity Platform'), 'language is remembered');
  await page.goto(base + '/?lang=zh');

  // a natural person's page: masked everywhere
  const id = ids[0];
  await page.goto(`${base}/subjects/${id}`);
  seenText.push(await page.content());
  await page.goto(`${base}/search?q=${encodeURIComponent(id.slice(0, 10))}`);
  seenText.push(await page.content());
  for (const html of seenText) for (const pid of ids) assert.ok(!html.includes(pid), `unmasked ID ${pid.slice(0, 6)}… on a page`);

  // the verify link shows a verified inclusion proof
  await page.goto(`${base}/ledger/1`);
  assert.match(await page.locator('#verdict').textContent(), /已验证/);
  // the officer's check form (逢办必查): sign in with the demo credentials
  const creds = JSON.parse(readFileSync(join(data, 'demo-credentials.json'), 'utf8'));
  const listed = creds.subject.code; // the first demo entity: on the serious dishonesty list
  assert.ok(listed, 'demo credentials name the listed entity');
  const officer = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await officer.goto(base + '/login');
  await officer.fill('#username', creds.officer.username);
  await officer.fill('#password', creds.officer.password);
  await Promise.all([officer.waitForNavigation(), officer.click('form[action="/login"] button[type=submit]')]);
  await officer.click('nav a[href="/check"]');
  await officer.waitForSelector('#check-form');
  await officer.fill('#c-code', listed);
  await officer.selectOption('#c-matter', 'government_procurement');
  await officer.fill('#c-purpose', '浏览器测试：政府采购供应商资格审查');
  await Promise.all([officer.waitForNavigation(), officer.click('#check-form button[type=submit]')]);
  assert.equal((await officer.locator('#verdict').textContent()).trim(), '禁止', 'verdict badge');
  assert.match(await officer.locator('#measure-M-SD-01 .basis').textContent(), /《中华人民共和国政府采购法》第二十二条/);
  assert.match(await officer.locator('#check-id').textContent(), /^chk_/);
  await officer.screenshot({ path: 'target/artifacts/check-page.png', fullPage: true });
  await officer.fill('#fb-note', '已按规定取消其供应商资格');
  await Promise.all([officer.waitForNavigation(), officer.click('#feedback-form button[type=submit]')]);
  assert.match(await officer.locator('#feedback-ok').textContent(), /反馈已记录/);
  console.log('portal browser test: ok (screenshots: target/artifacts/subject-page.png, check-page.png)');
} catch (e) {
  failed = true;
  console.error('portal browser test FAILED:', e);
} finally {
  await browser.close();
  stop();
}
process.exit(failed ? 1 : 0);
