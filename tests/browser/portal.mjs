// Portal test in real headless Chromium: search, open a subject, switch language,
// check that no personal ID appears unmasked, and save a screenshot of the subject
// page as an artifact (target/artifacts/subject-page.png); then sign in as the demo
// officer, check a listed entity before a government procurement, see 禁止 with the
// measure's legal basis, and give feedback (target/artifacts/check-page.png); finally
// due process: the demo entity applies for credit repair of a penalty through the
// form and gets its query code (target/artifacts/repair-receipt.png), the officer
// grants it from the case queue, and the public page no longer shows the penalty;
// last commitments: the entity signs one from a matter's template and registers a
// qualification (self-declared), the centre records the commitment kept and verifies
// the registration, and the public page shows both states.
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

  // due process: a penalty of the demo entity decided 200 days ago (repairable after
  // three months, public for a year), stored through the API with the officer's token
  const entityCode = listed;
  const subject = await (await fetch(`${base}/api/v1/subjects/${entityCode}`)).json();
  const day = n => new Date(Date.now() + 8 * 3600e3 - n * 86400e3).toISOString().slice(0, 10);
  const docNo = '京朝城管罚〔2026〕浏1号';
  const row = {
    '行政相对人名称': subject.name, '行政相对人类别': '法人及非法人组织', '统一社会信用代码': entityCode,
    '行政处罚决定书文号': docNo, '违法行为类型': '施工工地未采取有效防尘降尘措施',
    '违法事实': '当事人施工工地内裸露土方未采取覆盖措施', '处罚依据': '《中华人民共和国大气污染防治法》第一百一十五条',
    '处罚类别': '罚款', '处罚内容': '罚款人民币贰万元', '罚款金额(万元)': '2', '处罚决定日期': day(200),
    '处罚有效期': day(-165), '处罚机关': '北京市朝阳区城市管理综合行政执法局',
    '处罚机关统一社会信用代码': '91110108551385082Q', '数据来源单位': '北京市朝阳区城市管理综合行政执法局',
    '数据来源单位统一社会信用代码': '91110108551385082Q', '处罚程序': '普通程序', '失信程度': '一般',
  };
  const stored = await (await fetch(`${base}/api/v1/records`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.department_token}` },
    body: JSON.stringify({ item: 'admin_penalty', rows: [row] }),
  })).json();
  const recordId = stored.rows && stored.rows[0].record_id;
  assert.ok(recordId, `the penalty is stored: ${JSON.stringify(stored)}`);

  // the entity signs in and applies from its subject page
  const entity = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await entity.goto(base + '/login');
  await entity.fill('#username', creds.subject.username);
  await entity.fill('#password', creds.subject.password);
  await Promise.all([entity.waitForNavigation(), entity.click('form[action="/login"] button[type=submit]')]);
  await entity.goto(`${base}/subjects/${entityCode}`);
  assert.ok((await entity.content()).includes(docNo), 'the entity sees its penalty');
  await Promise.all([entity.waitForNavigation(), entity.click(`a.repair-link[href*="record_id=${recordId}"]`)]);
  await entity.waitForSelector('#repair-form');
  assert.ok(await entity.isDisabled('#cond-min_period') && await entity.isChecked('#cond-min_period'), 'automatic condition');
  assert.match(await entity.locator('#commitment').textContent(), new RegExp(subject.name));
  for (const c of ['obligations_met', 'commitment', 'other_requirements']) await entity.check(`#cond-${c}`);
  await entity.fill('#rp-statement', '罚款已缴清，施工工地已全面覆盖防尘网');
  await entity.check('#commitment-signed');
  await Promise.all([entity.waitForNavigation(), entity.click('#repair-form button[type=submit]')]);
  const queryCode = (await entity.locator('#query-code').textContent()).trim();
  assert.match(queryCode, /^[A-Z2-9]{12}$/, 'the receipt shows the query code');
  const caseId = (await entity.locator('#case-id').textContent()).trim();
  await entity.screenshot({ path: 'target/artifacts/repair-receipt.png', fullPage: true });

  // the officer finds it in the queue and grants it
  await Promise.all([officer.waitForNavigation(), officer.click('nav a[href="/cases"]')]);
  await Promise.all([officer.waitForNavigation(), officer.click(`#case-${caseId} a[href="/cases/${caseId}"]`)]);
  await officer.selectOption('#dc-outcome', 'granted');
  await officer.fill('#dc-reasons', '材料齐全，准予修复');
  await Promise.all([officer.waitForNavigation(), officer.click('#decision-form button[type=submit]')]);
  assert.match(await officer.locator('#case-outcome').textContent(), /准予修复/);

  // the public page no longer shows it; the query code follows the case without signing in
  await page.goto(`${base}/subjects/${entityCode}`);
  assert.ok(!(await page.content()).includes(docNo), 'the repaired penalty is gone from the public page');
  await page.goto(`${base}/cases/follow?case=${caseId}`);
  await page.fill('#fl-code', queryCode);
  await Promise.all([page.waitForNavigation(), page.click('#follow-form button[type=submit]')]);
  assert.match(await page.locator('#case-outcome').textContent(), /准予修复/);

  // commitments (信用承诺): the entity signs one from a matter's template; the centre,
  // reading the accepting department's queue, records it kept
  await Promise.all([entity.waitForNavigation(), entity.click('nav a[href="/commitments"]')]);
  await Promise.all([entity.waitForNavigation(), entity.click('#sign-link')]);
  await entity.selectOption('#cm-matter', 'M-SWJ-0001');
  await Promise.all([entity.waitForNavigation(), entity.click('#matter-form button[type=submit]')]);
  const text = await entity.locator('#commitment-text').textContent();
  assert.ok(text.includes(subject.name) && text.includes(entityCode), 'the text names the entity');
  assert.match(text, /一、遵守明码标价/, 'the conditions are numbered in the text');
  await entity.check('#cm-agree');
  await Promise.all([entity.waitForNavigation(), entity.click('#sign-form button[type=submit]')]);
  assert.match(entity.url(), /\/commitments\/\d+\?signed=1$/);
  const commitmentId = entity.url().match(/\/commitments\/(\d+)/)[1];
  assert.equal((await entity.locator('#commitment-state').textContent()).trim(), '履约中');
  assert.match(await entity.locator('#commitment-text').textContent(), new RegExp(subject.name));
  await entity.screenshot({ path: 'target/artifacts/commitment-signed.png', fullPage: true });

  // voluntary registration (自愿注册): shown as self-declared until verified
  await entity.goto(`${base}/registrations/new`);
  await entity.selectOption('#rg-category', '资质证照');
  await entity.fill('#rg-title', '高新技术企业证书');
  await entity.fill('#rg-content', '经认定为高新技术企业，证书编号 GR202511000123');
  await entity.fill('#rg-issuer', '北京市科学技术委员会');
  await entity.fill('#rg-obtained', day(60));
  await entity.check('#rg-agree');
  await Promise.all([entity.waitForNavigation(), entity.click('#registration-form button[type=submit]')]);
  assert.equal((await entity.locator('#declaration-state').textContent()).trim(), '自主声明（待核实）');
  const registrationPage = entity.url().split('?')[0];

  const admin = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await admin.goto(base + '/login');
  await admin.fill('#username', creds.admin.username);
  await admin.fill('#password', creds.admin.password);
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/login"] button[type=submit]')]);
  await admin.goto(`${base}/commitments?department=${encodeURIComponent('北京市商务局')}`);
  await Promise.all([admin.waitForNavigation(), admin.click(`#commitment-${commitmentId} a`)]);
  await admin.fill('#ff-text', '经现场检查，明码标价和进货查验制度已落实');
  await Promise.all([admin.waitForNavigation(), admin.click('#fulfil-form button[type=submit]')]);
  assert.equal((await admin.locator('#commitment-state').textContent()).trim(), '已履约');
  assert.match(await admin.locator('#step-ok').textContent(), /已履约/);
  assert.equal(await admin.locator('#fulfil-form').count(), 0, 'nothing more to record');
  await admin.goto(registrationPage);
  await admin.fill('#vf-text', '经市科委系统核验，证书真实有效');
  await Promise.all([admin.waitForNavigation(), admin.click('#verify-form button[type=submit]')]);
  assert.equal((await admin.locator('#declaration-state').textContent()).trim(), '已核实');

  // the public page shows both, with their states
  await page.goto(`${base}/subjects/${entityCode}`);
  assert.equal((await page.locator(`#record-${commitmentId} .badge.commitment`).textContent()).trim(), '已履约');
  assert.equal((await page.locator('#sec-registrations ~ article .badge.declaration').first().textContent()).trim(), '已核实');

  // grades (信用分级分类): the entity sees its own with the arithmetic; the officer sees
  // the distribution charts (SVG, no script) and the CSV
  await entity.goto(`${base}/me`);
  const letter = (await entity.locator('#grade-comprehensive-letter').textContent()).trim();
  assert.match(letter, /^[ABCD]$/, 'the comprehensive grade');
  assert.equal(letter, 'D', 'the demo entity is on the serious dishonesty list: at most D');
  assert.match(await entity.locator('#grade-comprehensive-arithmetic').textContent(), /^700 .*→ /);
  await officer.goto(`${base}/officer/grades`);
  assert.equal(await officer.locator('svg#chart-comprehensive rect').count(), 4, 'one bar per band');
  const dCount = Number((await officer.locator('#band-comprehensive-D td').nth(1).textContent()).trim());
  assert.ok(dCount >= 1, 'at least the listed entity is graded D');
  await officer.screenshot({ path: 'target/artifacts/grades-page.png', fullPage: true });
  const csv = await (await officer.request.get(`${base}/officer/grades.csv`)).text();
  assert.match(csv, /comprehensive,[0-9-]+,D,差,\d+/, 'the CSV download');

  // credit reports (信用报告): the entity makes its special report and downloads the
  // signed PDF; anyone checks the file at /verify
  await entity.goto(`${base}/reports`);
  await entity.selectOption('#rp-kind', 'special');
  await Promise.all([entity.waitForNavigation(), entity.click('#report-form button[type=submit]')]);
  const reportNumber = (await entity.locator('#report-number').textContent()).trim();
  assert.match(reportNumber, /^XYR-\d{8}-[0-9a-f]{12}$/, 'the report has its number');
  const [download] = await Promise.all([entity.waitForEvent('download'), entity.click('#report-pdf')]);
  const pdfPath = 'target/artifacts/report.pdf';
  await download.saveAs(pdfPath);
  await page.goto(`${base}/verify`);
  await page.setInputFiles('#vf-file', pdfPath);
  await Promise.all([page.waitForNavigation(), page.click('#verify-form button[type=submit]')]);
  // the download is issued anew (made now, its own number)
  assert.match((await page.locator('#verify-number').textContent()).trim(), /^XYR-\d{8}-[0-9a-f]{12}$/, 'the PDF is recognised');
  assert.equal(await page.locator('#vr-h.ok').count(), 1, 'the PDF verifies against this platform');
  await page.screenshot({ path: 'target/artifacts/verify-page.png', fullPage: true });

  // double-random inspections (双随机、一公开): the officer commits a plan, draws and
  // records a result; the public sees the plan, the draw and the result
  await officer.goto(`${base}/inspections`);
  await Promise.all([officer.waitForNavigation(), officer.click('#new-plan')]);
  await officer.fill('#pl-name', '浏览器测试：第四季度双随机抽查');
  await officer.fill('#pl-items', '营业执照公示情况\n年度报告公示情况');
  await officer.selectOption('#pl-model', 'samr_risk');
  await officer.fill('#pl-ratios', 'A=20 B=100 C=500 D=1000');
  await officer.fill('#pl-roster', ['ZF001,张明,110101', 'ZF002,李华,110105', 'ZF003,王芳,110108', 'ZF004,赵强,110102', 'ZF005,刘洋,110106'].join('\n'));
  await officer.fill('#pl-code', '111100000001340174');
  await Promise.all([officer.waitForNavigation(), officer.click('#plan-form button[type=submit]')]);
  assert.match(await officer.locator('#step-ok').textContent(), /计划已提交/);
  const planId = (await officer.locator('#plan-id').textContent()).trim();
  assert.match(planId, /^JC-\d{8}-\d{6}$/);
  await Promise.all([officer.waitForNavigation(), officer.click('#draw-form button[type=submit]')]);
  assert.match(await officer.locator('#step-ok').textContent(), /已抽取/);
  const firstTarget = officer.locator('#targets tbody tr').first();
  const targetId = await firstTarget.getAttribute('id');
  await firstTarget.locator('select[name=result]').selectOption('发现问题已责令改正');
  await Promise.all([officer.waitForNavigation(), firstTarget.locator('button[type=submit]').click()]);
  assert.match(await officer.locator('#step-ok').textContent(), /检查结果已记录/);
  await officer.screenshot({ path: 'target/artifacts/inspection-plan.png', fullPage: true });
  // the public: the plan in the list, its draw and the result; the online replay matches
  await page.goto(`${base}/inspections`);
  assert.equal(await page.locator(`#plan-${planId}`).count(), 1, 'the plan is published');
  await page.goto(`${base}/inspections/${planId}`);
  assert.match(await page.locator(`#${targetId} td.result`).textContent(), /发现问题已责令改正/);
  assert.equal(await page.locator('#draw-form').count(), 0, 'the public cannot draw');
  const replayed = await (await fetch(`${base}/api/v1/inspections/${planId}/replay`)).json();
  assert.equal(replayed.matches, true, JSON.stringify(replayed));
  // the centre's figures: departments, divisions and industries, charts without script
  await officer.goto(`${base}/officer/figures`);
  assert.ok(await officer.locator('svg#on-time rect').count() >= 1, 'the on-time chart');
  assert.ok(await officer.locator('#divisions tbody tr').count() >= 1, 'the divisions table');
  assert.match(await officer.locator('#departments').textContent(), /演示数据中心/);
  await officer.screenshot({ path: 'target/artifacts/figures-page.png', fullPage: true });
  console.log('portal browser test: ok (screenshots: target/artifacts/subject-page.png, check-page.png, repair-receipt.png, commitment-signed.png, grades-page.png, inspection-plan.png, verify-page.png)');
} catch (e) {
  failed = true;
  console.error('portal browser test FAILED:', e);
} finally {
  await browser.close();
  stop();
}
process.exit(failed ? 1 : 0);
