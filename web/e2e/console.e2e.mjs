// End-to-end scenario of the analyst console against a real `yagura serve` on loopback.
//
// It seeds what it needs through the API as the centre administrator (two organisations, a
// reporter, an analyst, an investigator and a user of another organisation, a sensor token and
// one ingested event that fires a shipped rule, so there is an alert to link), then plays the
// issue's scenario in Chromium:
//   1. an organisation's reporter files an incident (the form's validation is exercised first);
//   2. the duty officer assigns a centre analyst, who triages it, links the alert, comments and
//      sends an advisory to the reporter's organisation;
//   3. the reporter sees and acknowledges the advisory;
//   4. a user of another organisation sees neither the incident nor the advisory, in the lists
//      or by URL, and switching to Japanese translates the page and is remembered;
//   4b. an investigator opens a case, registers an item of evidence, stores its file, records
//      its transfer, checks its integrity, writes a timeline entry, hunts in the file with the
//      centre's rules (the alert joins the timeline), writes the report and reads the case in
//      Japanese; the analyst, who is no member, finds the case neither listed nor by id;
//   4c. a centre auditor imports an OSCAL catalog (the same file twice is refused), opens an
//      audit of the ministry against it, starts fieldwork, assesses every control, is told why
//      the report cannot be issued yet, writes a finding and its recommendation, and issues the
//      report; the ministry's administrator finds the recommendation among what the ministry
//      owes, reads the report, attaches proof to the recommendation and reports it implemented
//      (its reporter sees no audit at all); the auditor downloads the proof, verifies it and
//      closes the audit with a conclusion;
//   5. the administrator opens every page, reloads the rules and exports alerts (progress bars),
//      makes and revokes a sensor token and an API token (each used before and after), and
//      creates a TAXII collection, grants an organisation access and publishes an indicator.
// Every step checks what the page shows. Any console error, page error, CSP violation or request
// to a host other than loopback fails the run. Exit code 0 means every check passed.
//
// Environment: YAGURA_URL (http://127.0.0.1:PORT), YAGURA_ADMIN_USER, YAGURA_ADMIN_PASSWORD;
// YAGURA_SCREENSHOTS: a directory for screenshots of the main pages (optional);
// YAGURA_CHROMIUM: the browser (default /usr/bin/chromium).
import { chromium, request as playwrightRequest } from 'playwright-core';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BASE = (process.env.YAGURA_URL ?? '').replace(/\/$/, '');
const ADMIN_USER = process.env.YAGURA_ADMIN_USER ?? 'admin';
const ADMIN_PASSWORD = process.env.YAGURA_ADMIN_PASSWORD ?? '';
const SHOTS = process.env.YAGURA_SCREENSHOTS ?? '';
const CHROMIUM = process.env.YAGURA_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'correct-horse-battery-staple-7';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const TIMEOUT = 15000;

if (!BASE || !ADMIN_PASSWORD) {
  console.error('console.e2e: set YAGURA_URL and YAGURA_ADMIN_PASSWORD');
  process.exit(2);
}
if (!LOOPBACK.has(new URL(BASE).hostname)) {
  console.error(`console.e2e: YAGURA_URL must be a loopback address, not ${BASE}`);
  process.exit(2);
}
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

const problems = [];
let step = 'start';
function log(text) {
  console.log(`[e2e] ${text}`);
}
function fail(text) {
  throw new Error(`${step}: ${text}`);
}
function check(condition, text) {
  if (!condition) fail(text);
}

// ---- the API, as the seeding administrator -------------------------------------------------

async function apiSession(username, password) {
  const context = await playwrightRequest.newContext({ baseURL: BASE });
  const login = await context.post('/api/v1/auth/login', { data: { username, password } });
  if (login.status() !== 200) throw new Error(`API login ${username}: ${login.status()} ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  const call = async (method, path, data, headers = {}) => {
    const response = await context.fetch(path, {
      method, data, headers: { ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }), ...headers },
    });
    const text = await response.text();
    if (!response.ok()) throw new Error(`${method} ${path}: ${response.status()} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return { context, call };
}

async function seed() {
  step = 'seed';
  const admin = await apiSession(ADMIN_USER, ADMIN_PASSWORD);
  const me = await admin.call('GET', '/api/v1/auth/me');
  const suffix = Date.now().toString(36);
  const orgA = await admin.call('POST', '/api/v1/organizations', {
    name: `Ministry of Examples ${suffix}`, name_ja: `例示省 ${suffix}`, type: 'ministry', contact_email: 'soc@examples.example',
  });
  const orgB = await admin.call('POST', '/api/v1/organizations', {
    name: `Prefecture of Testing ${suffix}`, name_ja: `試験県 ${suffix}`, type: 'local_government',
  });
  const user = (username, display, org, roles) => admin.call('POST', '/api/v1/users', {
    username, display_name: display, email: `${username}@example.test`, org_id: org, roles,
    password: PASSWORD, locale: 'en', time_zone: 'Asia/Tokyo',
  });
  const reporter = await user(`reporter-${suffix}`, 'Hanako Sato', orgA.id, ['org_reporter']);
  const analyst = await user(`analyst-${suffix}`, 'Kenji Analyst', me.user.org_id, ['centre_analyst']);
  const other = await user(`other-${suffix}`, 'Taro Other', orgB.id, ['org_reporter']);
  const investigator = await user(`investigator-${suffix}`, 'Mika Investigator', me.user.org_id, ['investigator']);
  // The audit's people: a centre auditor, and the audited ministry's administrator.
  const auditor = await user(`auditor-${suffix}`, 'Yui Auditor', me.user.org_id, ['auditor']);
  const orgAdmin = await user(`orgadmin-${suffix}`, 'Jiro Administrator', orgA.id, ['org_admin']);

  // A sensor of the reporter's organisation sends an sshd line that a shipped rule fires on,
  // three times from the same host: one alert that counts three occurrences.
  const sensor = await admin.call('POST', '/api/v1/sensors', {
    org_id: orgA.id, name: `e2e-sshd-${suffix}`, logsource: 'product=linux,service=sshd',
  });
  const event = { message: 'Accepted password for root from 203.0.113.50 port 52144 ssh2', host: 'web01', program: 'sshd' };
  const ingest = await admin.context.post('/api/v1/ingest', {
    headers: { Authorization: `Bearer ${sensor.token}`, 'Content-Type': 'application/x-ndjson' },
    data: `${JSON.stringify(event)}\n`.repeat(3),
  });
  if (ingest.status() !== 202) throw new Error(`ingest: ${ingest.status()} ${await ingest.text()}`);
  let alert = null;
  for (let i = 0; i < 120 && alert?.occurrences !== 3; i++) {
    const page = await admin.call('GET', `/api/v1/alerts?org_id=${orgA.id}&limit=10`);
    if (page.items.length > 1) throw new Error(`three repeats made ${page.items.length} alerts, not one`);
    alert = page.items[0] ?? null;
    if (alert?.occurrences !== 3) await new Promise((r) => setTimeout(r, 500));
  }
  if (alert?.occurrences !== 3) throw new Error(`the ingested events raised no alert counting three within 60 s: ${JSON.stringify(alert)}`);
  // The prefecture asks the centre for help at TLP:AMBER+STRICT (art. 32): only the centre's
  // duty officers see such a request until one of them assigns an analyst.
  const prefecture = await apiSession(other.username, PASSWORD);
  const help = await prefecture.call('POST', '/api/v1/requests', {
    legal_basis: 'art32', title: `Help with encrypted file servers ${suffix}`,
    body: 'Our file servers were encrypted overnight.', tlp: 'amber+strict',
  });
  await prefecture.context.dispose();
  const analystApi = await apiSession(analyst.username, PASSWORD);
  const unseen = await analystApi.context.get(`/api/v1/requests/${help.id}`);
  await analystApi.context.dispose();
  if (unseen.status() !== 404) throw new Error(`an unassigned analyst read an AMBER+STRICT request: ${unseen.status()}`);
  log(`seeded: organisations ${orgA.name}, ${orgB.name}; alert "${alert.rule.title}"; request ${help.reference}`);
  return { admin, suffix, orgA, orgB, reporter, analyst, other, investigator, auditor, orgAdmin, alert, help };
}

// ---- the browser ----------------------------------------------------------------------------

// Failed loads the scenario causes on purpose (the console logs them as errors): the first
// /auth/me of a signed-out page, a wrong password, and the other organisation's direct URLs.
const expectedFailures = [{ path: /^\/api\/v1\/auth\/me$/, status: 401 }];

function watch(page, who) {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const failed = /Failed to load resource: the server responded with a status of (\d+)/.exec(text);
    if (failed) {
      const url = message.location()?.url ?? '';
      const path = url ? new URL(url).pathname : '';
      if (expectedFailures.some((e) => e.status === Number(failed[1]) && e.path.test(path))) return;
    }
    problems.push(`${who} @ ${step}: console error: ${text} ${message.location()?.url ?? ''}`);
  });
  page.on('pageerror', (error) => problems.push(`${who} @ ${step}: page error: ${error.message}`));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (!LOOPBACK.has(url.hostname)) problems.push(`${who} @ ${step}: request to a non-loopback host: ${request.url()}`);
  });
}

async function newPage(browser, who) {
  const context = await browser.newContext({ baseURL: BASE, locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1360, height: 900 } });
  // Recorded as console errors, which fail the run.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  watch(page, who);
  return page;
}

// A form control's label, with or without the required-field marker (" *").
function label(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\*)?$`);
}

async function shot(page, name, fullPage = false) {
  if (!SHOTS) return;
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

async function heading(page, text) {
  const h1 = page.locator('main h1');
  await h1.filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

async function signIn(page, username, password = PASSWORD) {
  step = `sign in as ${username}`;
  await page.goto('/');
  await page.waitForURL(/\/signin/);
  await page.getByLabel(label('User name')).fill(username);
  await page.getByLabel(label('Password')).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page) {
  step = 'sign out';
  await page.getByRole('button', { name: /Sign out|サインアウト/ }).click();
  await page.waitForURL(/\/signin/);
  await page.getByLabel(/User name|ユーザー名/).waitFor();
}

async function nav(page, name) {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
  await heading(page, name);
}

async function reporterFilesIncident(browser, s) {
  const page = await newPage(browser, 'reporter');
  await signIn(page, s.reporter.username);
  step = 'reporter: overview';
  await heading(page, 'Overview');
  const navText = await page.getByRole('navigation').innerText();
  check(navText.includes('Incidents') && navText.includes('Advisories'), `reporter's navigation lacks pages: ${navText}`);
  check(!navText.includes('Detection rules') && !navText.includes('Organisations') && !navText.includes('Audit log'),
    `a reporter must not be offered centre pages: ${navText}`);

  step = 'reporter: empty report is refused with help';
  await nav(page, 'Incidents');
  await page.getByRole('link', { name: 'Report an incident' }).click();
  await heading(page, 'Report an incident');
  await shot(page, 'incident-form');
  await page.getByRole('button', { name: 'Send the report' }).click();
  const summary = page.locator('.error-summary');
  await summary.waitFor({ state: 'visible' });
  check((await summary.innerText()).includes('Please correct'), 'no error summary');
  check(await page.getByLabel(label('Title')).getAttribute('aria-invalid') === 'true', 'the empty title is not marked invalid');
  check(await page.locator('#inc-title-error').innerText() === 'Required.', 'the title has no error text');
  check(new URL(page.url()).pathname === '/incidents/new', 'an invalid report left the form');
  await page.getByLabel(label('E-mail')).fill('not-an-address');
  await page.getByRole('button', { name: 'Send the report' }).click();
  await page.locator('#inc-point-of-contact-email-error').filter({ hasText: 'e-mail address' }).waitFor();

  step = 'reporter: files the incident';
  const title = `Phishing wave against the finance division ${s.suffix}`;
  await page.getByLabel(label('Title')).fill(title);
  await page.getByLabel(label('Description')).fill('Staff received e-mails with a credential-harvesting link; two accounts entered passwords.');
  await page.getByLabel(label('Category')).selectOption('phishing');
  await page.getByLabel(label('Functional impact')).selectOption('minimal_impact_to_non_critical_services');
  await page.getByLabel(label('Information impact')).selectOption('suspected_but_not_identified');
  await page.getByLabel(label('Recoverability')).selectOption('regular');
  await page.getByLabel(label('Location of activity')).selectOption('business_network');
  await page.getByLabel(label('Users affected')).fill('2');
  await page.getByLabel(label('ATT&CK techniques')).fill('T1566.002');
  await page.getByRole('button', { name: 'Add an indicator' }).click();
  await page.locator('.indicator-row select').selectOption('domain');
  await page.locator('.indicator-row input').fill('login-examples.invalid');
  await page.getByLabel(label('E-mail')).fill(s.reporter.email);
  await page.getByRole('button', { name: 'Send the report' }).click();
  await page.waitForURL(/\/incidents\/[0-9a-f-]{20,}$/);
  await heading(page, title);
  const incidentId = new URL(page.url()).pathname.split('/').pop();
  check(/INC-\d{4}-\d+/.test(await page.locator('main h1').innerText()), 'the new incident shows no reference');
  check((await page.locator('.incident-status').innerText()).includes('Reported'), 'the new incident is not "Reported"');
  check((await page.locator('main').innerText()).includes('login-examples.invalid'), 'the indicator is not shown');
  await signOut(page);
  await page.context().close();
  return { incidentId, title };
}

async function adminAssignsAnalyst(browser, s, incident) {
  const page = await newPage(browser, 'admin');
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  step = 'admin: assigns the analyst';
  await heading(page, 'Overview');
  await nav(page, 'Incidents');
  await page.getByRole('link', { name: incident.title }).click();
  await heading(page, incident.title);
  await page.getByLabel(label('Assign')).selectOption(s.analyst.id);
  await page.getByRole('button', { name: 'Assign', exact: true }).click();
  await page.locator('main').getByText('Kenji Analyst').first().waitFor();
  await signOut(page);
  await page.context().close();
}

async function adminAssignsRequest(browser, s) {
  const page = await newPage(browser, 'admin');
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  step = 'admin: assigns the analyst to the prefecture\'s AMBER+STRICT request';
  await heading(page, 'Overview');
  await nav(page, 'Requests for materials');
  await page.getByRole('link', { name: s.help.title }).click();
  await heading(page, `${s.help.reference} ${s.help.title}`);
  const panel = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Assigned staff' }) });
  await panel.getByText('Nobody is assigned yet.').waitFor();
  await panel.getByLabel(label('Assign')).selectOption(s.analyst.id);
  await panel.getByRole('button', { name: 'Assign', exact: true }).click();
  await panel.getByText('Kenji Analyst').waitFor();
  await shot(page, 'request-assignees');
  await signOut(page);
  await page.context().close();
}

async function analystAnswersRequest(browser, s) {
  const page = await newPage(browser, 'analyst');
  await signIn(page, s.analyst.username);
  await heading(page, 'Overview');
  step = 'analyst: finds the request among those assigned to them, and answers it';
  await nav(page, 'Requests for materials');
  await page.getByLabel('Assigned to me').check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/assigned_to=me/);
  await page.getByRole('link', { name: s.help.title }).click();
  await heading(page, `${s.help.reference} ${s.help.title}`);
  await page.getByLabel(label('Response')).fill('A response team will be with you at 14:00.');
  await page.getByRole('button', { name: 'Send the response' }).click();
  await page.locator('.comment').filter({ hasText: 'A response team will be with you at 14:00.' }).waitFor();
  await page.locator('main .badges').getByText('Answered').waitFor();
  // The analyst is a duty role and may assign too: the remove button is there, named for the
  // person it removes.
  await page.getByRole('button', { name: 'Remove Kenji Analyst' }).waitFor();
  await signOut(page);
  await page.context().close();
}

async function analystTriages(browser, s, incident) {
  const page = await newPage(browser, 'analyst');
  await signIn(page, s.analyst.username);
  await heading(page, 'Overview');
  step = 'analyst: opens the incident from the list';
  await nav(page, 'Incidents');
  await page.getByRole('link', { name: incident.title }).click();
  await heading(page, incident.title);

  step = 'analyst: triages';
  await page.getByLabel(label('New status')).selectOption('triaged');
  await page.getByLabel(label('Note')).fill('Confirmed phishing; credentials reset.');
  await page.getByRole('button', { name: 'Change status' }).click();
  await page.locator('.incident-status').filter({ hasText: 'Triaged' }).waitFor();
  await page.locator('.timeline').getByText('Status changed').waitFor();

  step = 'analyst: links the alert';
  await page.getByRole('button', { name: 'Link an alert' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(label('Alert')).selectOption(s.alert.id);
  await dialog.getByRole('button', { name: 'Link an alert' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('.alert-title').filter({ hasText: s.alert.rule.title }).waitFor();

  step = 'analyst: comments';
  await page.getByLabel(label('Comment')).fill('Blocked the domain at the gateway.');
  await page.getByRole('button', { name: 'Add comment' }).click();
  await page.locator('.comment').filter({ hasText: 'Blocked the domain at the gateway.' }).waitFor();
  await shot(page, 'incident');

  step = 'analyst: writes an advisory to the reporter’s organisation';
  await nav(page, 'Advisories');
  await page.getByRole('link', { name: 'Write an advisory' }).click();
  await heading(page, 'Write an advisory');
  const advisoryTitle = `Credential phishing campaign targeting ministries ${s.suffix}`;
  await page.getByRole('button', { name: 'Issue the advisory' }).click();
  check(await page.getByLabel(label('Title')).getAttribute('aria-invalid') === 'true', 'an empty advisory was not refused');
  await page.getByLabel(label('Title')).fill(advisoryTitle);
  await page.getByLabel(label('Advisory')).fill('Block login-examples.invalid and reset affected credentials.');
  await page.getByLabel(label('Severity')).selectOption('high');
  await page.getByLabel(label('Send to')).selectOption('organization');
  await page.getByLabel(label('Organisation')).selectOption(s.orgA.id);
  await page.getByLabel(label('ATT&CK techniques')).fill('T1566.002');
  await shot(page, 'advisory-form');
  await page.getByRole('button', { name: 'Issue the advisory' }).click();
  await page.waitForURL(/\/advisories\/[0-9a-f-]{20,}$/);
  await heading(page, advisoryTitle);
  const advisoryId = new URL(page.url()).pathname.split('/').pop();
  await page.getByText('1 organisation(s) have not acknowledged yet.').waitFor();
  await signOut(page);
  await page.context().close();
  return { advisoryId, advisoryTitle };
}

async function reporterAcknowledges(browser, s, incident, advisory) {
  const page = await newPage(browser, 'reporter');
  await signIn(page, s.reporter.username);
  await heading(page, 'Overview');
  step = 'reporter: sees the advisory';
  await nav(page, 'Advisories');
  const row = page.locator('tr').filter({ hasText: advisory.advisoryTitle });
  await row.waitFor();
  check((await row.innerText()).includes('Not acknowledged'), 'the advisory is not shown as unacknowledged');
  await shot(page, 'advisories');
  await page.getByRole('link', { name: advisory.advisoryTitle }).click();
  await heading(page, advisory.advisoryTitle);
  step = 'reporter: acknowledges';
  await page.getByRole('button', { name: 'Acknowledge receipt' }).click();
  await page.locator('.ack-state').filter({ hasText: 'Acknowledged on' }).waitFor();
  await shot(page, 'advisory');
  step = 'reporter: sees the triaged incident with its alert';
  await page.goto(`/incidents/${incident.incidentId}`);
  await heading(page, incident.title);
  await page.locator('.incident-status').filter({ hasText: 'Triaged' }).waitFor();
  await page.locator('.alert-title').filter({ hasText: s.alert.rule.title }).waitFor();
  await signOut(page);
  await page.context().close();
}

async function otherOrganisationSeesNothing(browser, s, incident, advisory) {
  const page = await newPage(browser, 'other');
  step = 'other: a wrong password is explained';
  expectedFailures.push({ path: /^\/api\/v1\/auth\/login$/, status: 401 });
  await signIn(page, s.other.username, 'wrong-password-123');
  await page.getByRole('alert').filter({ hasText: 'The user name or password is wrong.' }).waitFor();
  expectedFailures.pop();
  await page.getByLabel(label('Password')).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await heading(page, 'Overview');

  step = 'other: the incident is not listed';
  await nav(page, 'Incidents');
  await page.locator('main .paged, main .empty').first().waitFor();
  check(!(await page.locator('main').innerText()).includes(incident.title), 'the other organisation sees the incident in its list');
  step = 'other: the advisory is not listed';
  await nav(page, 'Advisories');
  await page.locator('main .paged, main .empty').first().waitFor();
  check(!(await page.locator('main').innerText()).includes(advisory.advisoryTitle), 'the other organisation sees the advisory in its list');

  step = 'other: direct URLs answer "not found"';
  expectedFailures.push({ path: /^\/api\/v1\/(incidents|advisories|alerts)\/[^/]+$/, status: 404 });
  for (const path of [`/incidents/${incident.incidentId}`, `/advisories/${advisory.advisoryId}`, `/alerts/${s.alert.id}`]) {
    await page.goto(path);
    await heading(page, 'Page not found');
    const text = await page.locator('main').innerText();
    check(!text.includes(incident.title) && !text.includes(advisory.advisoryTitle), `${path} shows confidential text`);
  }

  step = 'other: switches to Japanese';
  await page.getByRole('button', { name: '日本語' }).click();
  await heading(page, 'ページが見つかりません');
  check(await page.locator('html').getAttribute('lang') === 'ja', 'html lang is not ja');
  const navJa = await page.getByRole('navigation').innerText();
  check(navJa.includes('インシデント') && navJa.includes('注意喚起') && navJa.includes('資料提供の求め'), `the navigation is not Japanese: ${navJa}`);
  check(!navJa.includes('Incidents'), 'English left in the navigation');
  await page.getByRole('navigation').getByRole('link', { name: 'インシデント', exact: true }).click();
  await heading(page, 'インシデント');
  await page.getByRole('link', { name: 'インシデントの報告' }).click();
  await heading(page, 'インシデントの報告');
  check((await page.locator('main').innerText()).includes('報告を送信'), 'the report form is not Japanese');
  expectedFailures.pop();
  await shot(page, 'incident-form-ja');
  await signOut(page);
  await page.context().close();

  step = 'other: Japanese is remembered at the next sign-in';
  const fresh = await newPage(browser, 'other');
  await signIn(fresh, s.other.username);
  await heading(fresh, '概況');
  check(await fresh.locator('html').getAttribute('lang') === 'ja', 'the language was not remembered');
  await shot(fresh, 'overview-ja');
  await fresh.context().close();
}

async function investigatorRunsCase(browser, s) {
  const page = await newPage(browser, 'investigator');
  await signIn(page, s.investigator.username);
  await heading(page, 'Overview');
  step = 'investigator: opens a case';
  await nav(page, 'Cases');
  await page.getByRole('link', { name: 'New case' }).click();
  await heading(page, 'Open a case');
  const title = `Intrusion into the prefecture's file servers ${s.suffix}`;
  await page.getByLabel(label('Title')).fill(title);
  await page.getByLabel(label('Summary')).fill('File servers were encrypted overnight; find the way in.');
  await page.getByRole('button', { name: 'Open the case' }).click();
  await page.waitForURL(/\/cases\/[0-9a-f-]{20,}$/);
  await heading(page, title);
  const caseId = new URL(page.url()).pathname.split('/').pop();
  check(/CASE-\d{4}-\d+/.test(await page.locator('main h1').innerText()), 'the new case shows no reference');
  await page.locator('main .badges').getByText('Your role: Lead').waitFor();

  step = 'investigator: registers an item of evidence';
  await page.getByRole('button', { name: 'Register evidence' }).click();
  let box = page.getByRole('dialog');
  await box.getByLabel(label('Label')).fill('FS01 authentication log');
  await box.getByLabel(label('Kind')).selectOption('log_collection');
  await box.getByLabel(label('Acquired by')).fill('Sato, prefecture IT');
  await box.getByRole('button', { name: 'Register', exact: true }).click();
  await box.waitFor({ state: 'detached' });
  const item = page.locator('.evidence-panel');
  await item.getByText(/^Registered as CASE-\d{4}-\d+-E001\.$/).waitFor();

  step = 'investigator: stores the file of the evidence';
  const log = Buffer.from('Nov 29 03:12:44 fs01 sshd[811]: Accepted password for root from 203.0.113.50 port 50522 ssh2\n');
  const sha256 = createHash('sha256').update(log).digest('hex');
  await item.getByLabel(label('File')).setInputFiles({ name: 'auth.log', mimeType: 'text/plain', buffer: log });
  await item.getByRole('button', { name: 'Store the file' }).click();
  await item.getByText(`Stored auth.log; SHA-256 ${sha256}.`).waitFor();

  step = 'investigator: records a transfer';
  await item.getByLabel(label('Action')).selectOption('transferred');
  await item.getByLabel(label('New holder')).fill('Evidence room B');
  await item.getByRole('button', { name: 'Record the event' }).click();
  await item.getByText('Recorded: Transferred (#3).').waitFor();
  const chain = await item.locator('table').innerText();
  check(chain.includes('Acquired') && chain.includes('File stored') && chain.includes('→ Evidence room B'),
    `the chain of custody lacks an event: ${chain.slice(0, 400)}`);
  check(await item.locator('.chain-bad').count() === 0, 'a custody event does not carry the hash of the one before it');

  step = 'investigator: checks the integrity of the evidence';
  await item.getByRole('button', { name: 'Check integrity' }).click();
  const integrity = item.locator('.integrity-result .notice-success');
  await integrity.getByText('Intact', { exact: true }).waitFor();
  check((await integrity.innerText()).includes('The chain of custody is intact (3 events).'), 'the integrity check does not count the three events');

  step = 'investigator: writes a timeline entry';
  const finding = `Administrator logged in over SSH from 203.0.113.50 ${s.suffix}`;
  await page.getByRole('button', { name: 'Add an entry' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Kind')).selectOption('finding');
  await box.getByLabel(label('Title')).fill(finding);
  await box.getByLabel(label('Host')).fill('fs01');
  await box.getByLabel(label('ATT&CK techniques')).fill('t1078');
  await box.getByRole('button', { name: 'Add the entry' }).click();
  await box.waitFor({ state: 'detached' });
  const entry = page.locator('.case-timeline tr').filter({ hasText: finding });
  await entry.waitFor();
  const entryText = await entry.innerText();
  check(entryText.includes('Finding') && entryText.includes('T1078') && entryText.includes('fs01'), `the entry is not listed as written: ${entryText}`);
  // The item of evidence is on the timeline at its acquisition.
  await page.locator('.case-timeline tr').filter({ hasText: 'FS01 authentication log' }).waitFor();
  await shot(page, 'case', true);

  step = 'investigator: hunts in the file of the evidence with the centre\'s rules';
  await item.getByRole('button', { name: "Hunt with the centre's rules" }).click();
  await item.getByText('Alerts: 1; added to the timeline: 1.').waitFor({ timeout: 60_000 });
  // The hunt's alert joins the timeline, which reloads itself.
  await page.locator('.case-timeline tr').filter({ hasText: 'SSH Login As Root Accepted' }).waitFor();

  step = 'investigator: adds the raw events of a host to the timeline';
  await page.getByRole('button', { name: 'Add stored events' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Host')).fill('web01');
  await box.getByRole('button', { name: 'Copy the events' }).click();
  await box.waitFor({ state: 'detached' });
  await page.getByText('3 stored events were added to the timeline.').waitFor();
  const copied = page.locator('.case-timeline tr').filter({ hasText: 'Accepted password for root from 203.0.113.50 port 52144' });
  await copied.first().waitFor();
  check(await copied.count() === 3 && (await copied.first().innerText()).includes('web01'), 'the stored events are not on the timeline with their host');

  step = 'investigator: writes the investigation report';
  const reportHref = await page.getByRole('link', { name: 'Report (English)' }).getAttribute('href');
  const report = await page.request.get(reportHref);
  const reportHtml = await report.text();
  check(report.status() === 200 && reportHtml.includes('TLP:RED') && reportHtml.includes('FS01 authentication log'),
    `the report is not the case's: ${report.status()} ${reportHtml.slice(0, 200)}`);

  step = 'investigator: reads the case in Japanese';
  await page.getByRole('button', { name: '日本語' }).click();
  await page.getByRole('heading', { name: '証拠品', exact: true }).waitFor();
  await page.getByRole('heading', { name: 'タイムライン', exact: true }).waitFor();
  check((await page.getByRole('navigation').innerText()).includes('調査案件'), 'the navigation does not name the cases in Japanese');
  await signOut(page);
  await page.context().close();

  step = 'analyst: a case of which they are no member is neither listed nor readable';
  const analyst = await apiSession(s.analyst.username, PASSWORD);
  const list = await analyst.call('GET', '/api/v1/cases');
  check(!list.items.some((c) => c.id === caseId), 'the analyst lists a case they are no member of');
  const direct = await analyst.context.get(`/api/v1/cases/${caseId}`);
  check(direct.status() === 404, `the analyst reads a case they are no member of: ${direct.status()}`);
  await analyst.context.dispose();
  return { caseId, title };
}

// A small OSCAL catalog: two groups, a control with a parameter and an enhancement, and a
// control whose statement has items.
function catalogJson(suffix) {
  return `{
  "catalog": {
    "uuid": "5e0b7c1a-3f5d-4c1e-9a57-${suffix.padStart(12, '0').slice(-12)}",
    "metadata": {
      "title": "Example Security Baseline ${suffix}",
      "version": "2027.1",
      "oscal-version": "1.1.2",
      "published": "2027-01-10T00:00:00Z",
      "last-modified": "2027-01-10T00:00:00Z"
    },
    "groups": [
      {
        "id": "ac",
        "title": "Access Control",
        "controls": [
          {
            "id": "ac-1",
            "class": "baseline",
            "title": "Account Management",
            "params": [{ "id": "ac-1_prm_1", "label": "frequency" }],
            "props": [{ "name": "label", "value": "AC-1" }],
            "parts": [{ "id": "ac-1_smt", "name": "statement", "prose": "Review every account {{ insert: param, ac-1_prm_1 }} and disable those no longer needed." }],
            "controls": [
              {
                "id": "ac-1.1",
                "class": "baseline-enhancement",
                "title": "Multi-factor Authentication",
                "props": [{ "name": "label", "value": "AC-1(1)" }],
                "parts": [{ "id": "ac-1.1_smt", "name": "statement", "prose": "Require multi-factor authentication for privileged accounts." }]
              }
            ]
          }
        ]
      },
      {
        "id": "ir",
        "title": "Incident Response",
        "controls": [
          {
            "id": "ir-1",
            "class": "baseline",
            "title": "Incident Reporting",
            "props": [{ "name": "label", "value": "IR-1" }],
            "parts": [{
              "id": "ir-1_smt", "name": "statement", "prose": "Report incidents to the centre:",
              "parts": [
                { "id": "ir-1_smt.a", "name": "item", "props": [{ "name": "label", "value": "a." }], "prose": "within 24 hours of detection; and" },
                { "id": "ir-1_smt.b", "name": "item", "props": [{ "name": "label", "value": "b." }], "prose": "with the indicators known at the time." }
              ]
            }]
          }
        ]
      }
    ]
  }
}`;
}

// A day as a date input takes it, `days` from now.
function dayFromNow(days) {
  return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

async function auditorOpensAudit(browser, s) {
  const page = await newPage(browser, 'auditor');
  await signIn(page, s.auditor.username);
  await heading(page, 'Overview');
  const navText = await page.getByRole('navigation').innerText();
  check(navText.includes('Audits') && navText.includes('Standards'), `the auditor's navigation lacks the audits: ${navText}`);

  step = 'auditor: imports an OSCAL catalog';
  const catalogTitle = `Example Security Baseline ${s.suffix}`;
  const catalog = Buffer.from(catalogJson(s.suffix));
  await nav(page, 'Standards');
  await page.getByText('No standard has been imported yet.').waitFor();
  await page.getByRole('button', { name: 'Import a catalog' }).click();
  let box = page.getByRole('dialog');
  await box.getByRole('button', { name: 'Import', exact: true }).click();
  await box.getByText('Required.').waitFor();
  await box.getByLabel(label('Catalog file')).setInputFiles({ name: 'example-baseline.json', mimeType: 'application/json', buffer: catalog });
  await box.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForURL(/\/standards\/[0-9a-f-]{20,}$/);
  await heading(page, catalogTitle);
  const standardId = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('heading', { name: 'Access Control', exact: true }).waitFor();
  await page.getByRole('heading', { name: 'Incident Response', exact: true }).waitFor();
  const ac1 = await page.locator('li[data-control-id="ac-1"]').innerText();
  check(ac1.includes('AC-1') && ac1.includes('Review every account [Assignment: frequency] and disable'),
    `the control's statement does not read with its parameter: ${ac1}`);
  check((await page.locator('li[data-control-id="ac-1.1"]').getAttribute('class')).includes('depth-1'), 'the enhancement is not indented under its control');
  check((await page.locator('li[data-control-id="ac-1.1"]').innerText()).includes('enhancement of AC-1'), 'the enhancement does not name its control');
  check(/Report incidents to the centre:\n\s*a\. within 24 hours/.test(await page.locator('li[data-control-id="ir-1"] .statement').innerText()),
    'the statement\'s items are not on lines of their own');
  check((await page.locator('main').innerText()).includes('example-baseline.json'), 'the standard does not name the file it came from');
  await shot(page, 'standard', true);

  step = 'auditor: the same catalog again is refused, naming the standard that holds it';
  await nav(page, 'Standards');
  await page.locator('main tr').filter({ hasText: catalogTitle }).waitFor();
  await shot(page, 'standards');
  await page.getByRole('button', { name: 'Import a catalog' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Catalog file')).setInputFiles({ name: 'copy.json', mimeType: 'application/json', buffer: catalog });
  expectedFailures.push({ path: /^\/api\/v1\/standards$/, status: 409 });
  await box.getByRole('button', { name: 'Import', exact: true }).click();
  await box.getByRole('alert').filter({ hasText: `this catalog is imported already, as "${catalogTitle}"` }).waitFor();
  expectedFailures.pop();
  await page.keyboard.press('Escape');
  await box.waitFor({ state: 'detached' });

  step = 'auditor: opens an audit of the ministry against the standard';
  await page.getByRole('link', { name: catalogTitle }).click();
  await heading(page, catalogTitle);
  await page.getByRole('link', { name: 'Open an audit against this standard' }).click();
  await heading(page, 'Open an audit');
  check(await page.getByLabel(label('Standard')).inputValue() === standardId, 'the form does not start with the standard it was opened from');
  await page.getByRole('button', { name: 'Open the audit' }).click();
  check(await page.getByLabel(label('Title')).getAttribute('aria-invalid') === 'true', 'an audit without a title was not refused');
  check(await page.getByLabel(label('Audited organisation')).getAttribute('aria-invalid') === 'true', 'an audit without an organisation was not refused');
  const title = `FY2027 security audit of the Ministry of Examples ${s.suffix}`;
  await page.getByLabel(label('Title')).fill(title);
  await page.getByLabel(label('Objectives')).fill('Establish whether accounts and incident reporting meet the baseline.');
  await page.getByLabel(label('Audited organisation')).selectOption(s.orgA.id);
  await page.getByLabel(label('Planned start')).fill(dayFromNow(1));
  await page.getByLabel(label('Planned end')).fill(dayFromNow(30));
  await page.getByLabel('Every control of the standard').check();
  await page.getByLabel(`Kenji Analyst (${s.analyst.username})`).selectOption('reader');
  await shot(page, 'audit-form', true);
  await page.getByRole('button', { name: 'Open the audit' }).click();
  await page.waitForURL(/\/audits\/[0-9a-f-]{20,}$/);
  await heading(page, title);
  const auditId = new URL(page.url()).pathname.split('/').pop();
  const reference = (await page.locator('main h1').innerText()).match(/AUD-\d{4}-\d+/)?.[0];
  check(reference !== undefined, 'the new audit shows no reference');
  await page.locator('main .badges').getByText('Your role: Lead auditor').waitFor();
  await page.locator('.audit-status').getByText('Planning').waitFor();
  const teamPanel = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Team', exact: true }) });
  await teamPanel.locator('tr').filter({ hasText: 'Kenji Analyst' }).locator('.badge', { hasText: 'Reader' }).waitFor();
  await page.getByText('0 of 3 assessed').first().waitFor();

  step = 'auditor: starts fieldwork';
  const move = async (name, note) => {
    await page.locator('main').getByRole('button', { name, exact: true }).click();
    const d = page.getByRole('dialog');
    if (note) await d.getByRole('textbox').fill(note);
    await d.getByRole('button', { name, exact: true }).click();
    return d;
  };
  await (await move('Start fieldwork')).waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Fieldwork').waitFor();

  step = 'auditor: assesses every control';
  const assessments = [
    ['ac-1', 'AC-1', 'satisfied', ['Examine', 'Interview'], 'Quarterly account reviews on file since 2025.'],
    ['ac-1.1', 'AC-1(1)', 'not_applicable', [], 'No privileged accounts outside the centre-run cloud.'],
    ['ir-1', 'IR-1', 'not_satisfied', ['Interview', 'Test'], 'Two incidents last year were reported after 72 hours.'],
  ];
  for (const [id, name, result, methods, note] of assessments) {
    const item = page.locator(`li[data-control-id="${id}"]`);
    check(!(await item.locator('details').evaluate((d) => d.open)), `the statement of ${id} is not folded away`);
    await item.getByLabel(label('Result')).selectOption(result);
    for (const method of methods) await item.getByLabel(method, { exact: true }).check();
    await item.getByLabel(label('Note')).fill(note);
    await item.getByRole('button', { name: `Save the assessment of ${name}` }).click();
    await item.getByText('Saved.').waitFor();
    check(await item.getAttribute('data-result') === result, `${id} does not show its new result`);
  }
  await page.getByText('3 of 3 assessed').first().waitFor();
  await shot(page, 'audit-checklist', true);

  step = 'auditor: the report cannot be issued while a control not satisfied has no finding';
  await (await move('Move to reporting')).waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Reporting').waitFor();
  // The checklist says what the report still lacks before the server has to.
  await page.locator('.audit-checklist .notice-warning').getByText('without a finding yet: ir-1.').waitFor();
  expectedFailures.push({ path: /^\/api\/v1\/audits\/[^/]+\/transitions$/, status: 409 });
  box = await move('Issue the report');
  await box.getByRole('alert').filter({ hasText: 'control ir-1 is not satisfied but has no finding' }).waitFor();
  expectedFailures.pop();
  await page.keyboard.press('Escape');
  await box.waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Reporting').waitFor();
  await (await move('Back to fieldwork')).waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Fieldwork').waitFor();

  step = 'auditor: writes a finding';
  await page.getByRole('tab', { name: /^Findings and recommendations/ }).click();
  await page.getByText('No findings.').waitFor();
  await page.getByRole('button', { name: 'Write a finding' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Control')).selectOption('ir-1');
  await box.getByLabel(label('Title')).fill('Incidents reported late');
  await box.getByLabel(label('Description')).fill('Two of three incidents in 2026 reached the centre after 72 hours.');
  await box.getByLabel(label('Risk')).selectOption('high');
  await box.getByRole('button', { name: 'Add the finding' }).click();
  await box.waitFor({ state: 'detached' });
  const finding = page.locator('article[data-finding="F-001"]');
  await finding.getByRole('heading', { name: 'F-001 Incidents reported late' }).waitFor();
  check((await finding.innerText()).includes('High risk'), 'the finding does not show its risk');

  step = 'auditor: writes a recommendation';
  await finding.getByRole('button', { name: 'Write a recommendation for F-001' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Recommendation')).fill('Name a duty officer for incident reports and report within 24 hours.');
  await box.getByLabel(label('Due')).fill(dayFromNow(90));
  await box.getByRole('button', { name: 'Add the recommendation' }).click();
  await box.waitFor({ state: 'detached' });
  const recommendation = page.locator('section[data-recommendation="R-001"]');
  await recommendation.locator('.recommendation-status').getByText('Open').waitFor();

  step = 'auditor: moves to reporting and issues the report';
  await (await move('Move to reporting')).waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Reporting').waitFor();
  await (await move('Issue the report')).waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Report issued').waitFor();
  check(await page.getByRole('button', { name: 'Save the assessment of AC-1' }).count() === 0, 'an issued report\'s checklist can still be changed');

  step = 'auditor: downloads the audit as OSCAL';
  for (const [name, model] of [['Assessment results (OSCAL)', 'assessment-results'], ['Plan of action (OSCAL POA&M)', 'plan-of-action-and-milestones']]) {
    const href = await page.getByRole('link', { name }).getAttribute('href');
    const file = await page.request.get(href);
    const text = await file.text();
    check(file.status() === 200 && JSON.parse(text)[model] !== undefined, `${name}: ${file.status()} ${text.slice(0, 200)}`);
  }

  step = 'auditor: reads the team\'s history';
  await page.getByRole('tab', { name: 'History' }).click();
  const history = page.locator('.audit-history-list');
  await history.getByText('Control assessed').first().waitFor();
  const historyText = await history.innerText();
  check(historyText.includes('Audit opened') && historyText.includes('Reporting → Report issued') && historyText.includes('Finding written'),
    `the history lacks a step: ${historyText.slice(0, 400)}`);
  await page.getByRole('tab', { name: /^Findings and recommendations/ }).click();
  await shot(page, 'audit-findings', true);
  await nav(page, 'Audits');
  await page.locator('main tr').filter({ hasText: title }).getByText('Report issued').waitFor();
  await shot(page, 'audits');
  await signOut(page);
  await page.context().close();
  return { auditId, reference, title };
}

// The ministry's proof that the recommendation is implemented, attached through the page.
const PROOF = Buffer.from('Duty roster 2027: incident reports go to the duty officer, who reports to the centre within 24 hours.\n');
const PROOF_SHA256 = createHash('sha256').update(PROOF).digest('hex');

async function auditeeAnswersRecommendation(browser, s, audit) {
  step = 'ministry reporter: sees no audit, in the list or by id';
  const reporter = await apiSession(s.reporter.username, PASSWORD);
  const listed = await reporter.call('GET', '/api/v1/audits');
  check(listed.items.length === 0, 'an organisation\'s reporter lists audits');
  const direct = await reporter.context.get(`/api/v1/audits/${audit.auditId}`);
  check(direct.status() === 404, `an organisation's reporter reads an audit: ${direct.status()}`);
  await reporter.context.dispose();

  const page = await newPage(browser, 'ministry admin');
  await signIn(page, s.orgAdmin.username);
  await heading(page, 'Overview');
  step = 'ministry admin: finds the recommendation among what the ministry owes';
  await nav(page, 'Audits');
  await page.getByRole('tab', { name: 'Recommendations' }).click();
  const owed = page.locator('.audit-owed tr').filter({ hasText: audit.title });
  await owed.getByRole('link', { name: `R-001 of ${audit.reference}` }).waitFor();
  check((await owed.innerText()).includes('Incidents reported late'), 'the recommendations list does not name the finding');
  await owed.locator('.recommendation-status').getByText('Open').waitFor();
  check(await page.locator('.audit-owed').getByText('What the issued audit reports recommend your organisation to do', { exact: false }).count() === 1,
    'the recommendations list is not worded for the audited organisation');
  await shot(page, 'audit-recommendations');
  await page.getByLabel('Overdue only').check();
  await page.locator('.audit-owed').getByRole('button', { name: 'Apply' }).click();
  await page.locator('.audit-owed').getByText('Your organisation owes no recommendation that matches.').waitFor();
  await page.getByLabel('Overdue only').uncheck();
  await page.locator('.audit-owed').getByRole('button', { name: 'Apply' }).click();

  step = 'ministry admin: finds the issued audit';
  await page.locator('.audit-owed tr').filter({ hasText: audit.title }).getByRole('link', { name: audit.title }).click();
  await heading(page, audit.title);
  await page.locator('.audit-status').getByText('Report issued').waitFor();
  check(await page.getByRole('heading', { name: 'Team', exact: true }).count() === 0, 'the audited organisation sees the team');
  check(await page.getByRole('tab', { name: 'History' }).count() === 0, 'the audited organisation sees the team\'s history');

  step = 'ministry admin: reads the checklist, which it cannot change';
  await page.getByRole('tab', { name: 'Control checklist' }).click();
  await page.locator('li[data-control-id="ir-1"]').getByText('Not satisfied').waitFor();
  check(await page.getByRole('button', { name: /^Save the assessment/ }).count() === 0, 'the audited organisation is offered to assess controls');

  step = 'ministry admin: reports the recommendation implemented';
  await page.getByRole('tab', { name: /^Findings and recommendations/ }).click();
  const recommendation = page.locator('section[data-recommendation="R-001"]');
  await recommendation.getByRole('button', { name: 'Report progress: R-001' }).waitFor();
  check(await recommendation.getByRole('button', { name: /^Verify/ }).count() === 0, 'the audited organisation is offered to verify');
  check(await page.getByRole('button', { name: 'Write a finding' }).count() === 0, 'the audited organisation is offered to write findings');

  step = 'ministry admin: attaches proof to the recommendation';
  await recommendation.getByText('No files.').waitFor();
  await recommendation.getByLabel(label('File')).setInputFiles({ name: 'duty-roster.txt', mimeType: 'text/plain', buffer: PROOF });
  await recommendation.getByRole('button', { name: 'Attach a file to R-001' }).click();
  const file = recommendation.locator('li[data-attachment="duty-roster.txt"]');
  await file.getByRole('link', { name: 'duty-roster.txt' }).waitFor();
  const fileText = await file.innerText();
  check(fileText.includes(s.orgA.name) && fileText.includes(PROOF_SHA256.slice(0, 12)) && fileText.includes(`${PROOF.length} B`),
    `the attached file is not listed with its size, organisation and hash: ${fileText}`);
  check(await file.locator('code.hash').getAttribute('title') === PROOF_SHA256, 'the shortened hash does not carry the full SHA-256');

  step = 'ministry admin: reports the recommendation implemented';
  await recommendation.getByRole('button', { name: 'Report implemented: R-001' }).click();
  const box = page.getByRole('dialog');
  await box.getByRole('button', { name: 'Report implemented' }).click();
  await box.getByText('Required.').waitFor();
  const note = 'A duty officer is named for incident reports; the procedure now requires reports within 24 hours.';
  await box.getByLabel(label('Note')).fill(note);
  await box.getByRole('button', { name: 'Report implemented' }).click();
  await box.waitFor({ state: 'detached' });
  await recommendation.locator('.recommendation-status').getByText('Implemented').waitFor();
  await recommendation.locator('.follow-ups').getByText(note).waitFor();
  check((await recommendation.locator('.follow-ups').innerText()).includes('Open → Implemented'), 'the follow-up does not say what changed');
  check(await recommendation.locator('.follow-up-actions').count() === 0, 'the audited organisation is offered a step after reporting implemented');
  await recommendation.getByRole('button', { name: 'Attach a file to R-001' }).waitFor();
  await shot(page, 'audit-follow-up', true);
  await signOut(page);
  await page.context().close();
}

async function auditorClosesAudit(browser, s, audit) {
  const page = await newPage(browser, 'auditor');
  await signIn(page, s.auditor.username);
  await heading(page, 'Overview');
  step = 'auditor: opens the audit';
  await page.goto(`/audits/${audit.auditId}`);
  await heading(page, audit.title);
  const recommendation = page.locator('section[data-recommendation="R-001"]');
  await recommendation.locator('.recommendation-status').getByText('Implemented').waitFor();

  step = 'auditor: downloads the ministry\'s proof';
  const file = recommendation.locator('li[data-attachment="duty-roster.txt"]');
  check((await file.innerText()).includes(s.orgA.name), 'the auditor does not see whose file it is');
  const [download] = await Promise.all([page.waitForEvent('download'), file.getByRole('link', { name: 'duty-roster.txt' }).click()]);
  check(download.suggestedFilename() === 'duty-roster.txt', `the download is named ${download.suggestedFilename()}`);
  const bytes = readFileSync(await download.path());
  check(bytes.equals(PROOF), `the downloaded file differs from the one attached: ${bytes.toString('utf8').slice(0, 200)}`);

  step = 'auditor: verifies the implementation';
  await recommendation.getByRole('button', { name: 'Verify: R-001' }).click();
  let box = page.getByRole('dialog');
  await box.getByLabel(label('Note')).fill('Checked the procedure and the duty roster on site.');
  await box.getByRole('button', { name: 'Verify' }).click();
  await box.waitFor({ state: 'detached' });
  await recommendation.locator('.recommendation-status').getByText('Verified').waitFor();

  step = 'auditor: closes the audit with its conclusion';
  await page.locator('main').getByRole('button', { name: 'Close the audit', exact: true }).click();
  box = page.getByRole('dialog');
  await box.getByRole('button', { name: 'Close the audit' }).click();
  await box.getByText('Required.').waitFor();
  const conclusion = 'The ministry meets the baseline; incident reporting was late and is now corrected.';
  await box.getByLabel(label('Conclusion')).fill(conclusion);
  await box.getByRole('button', { name: 'Close the audit' }).click();
  await box.waitFor({ state: 'detached' });
  await page.locator('.audit-status').getByText('Closed').waitFor();
  await page.locator('.audit-conclusion').getByText(conclusion).waitFor();
  check(await page.locator('main').getByRole('button', { name: 'Edit the audit' }).count() === 0, 'a closed audit can still be edited');

  step = 'auditor: reads the audit in Japanese';
  await page.getByRole('button', { name: '日本語' }).click();
  await page.locator('.audit-status').getByText('完了').waitFor();
  await page.getByRole('tab', { name: /^指摘事項と改善勧告/ }).waitFor();
  check((await page.getByRole('navigation').innerText()).includes('監査'), 'the navigation does not name the audits in Japanese');
  await page.getByRole('button', { name: 'English' }).click();
  await page.locator('.audit-status').getByText('Closed').waitFor();
  await signOut(page);
  await page.context().close();
}

async function adminPages(browser, s) {
  const page = await newPage(browser, 'admin');
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await heading(page, 'Overview');

  step = 'admin: requests materials from the ministry (art. 30)';
  const due = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 16);
  await page.goto('/requests/new');
  await heading(page, 'New request');
  await page.getByLabel(label('Legal basis')).selectOption('art30');
  await page.getByLabel(label('Addressed to')).selectOption(s.orgA.id);
  await page.getByLabel(label('Title')).fill(`Logs of the phishing wave ${s.suffix}`);
  await page.getByLabel(label('Request')).fill('Mail gateway logs from 1 to 26 November.');
  await page.getByLabel(label('Due')).fill(due);
  await page.getByRole('button', { name: 'Send the request' }).click();
  await page.waitForURL(/\/requests\/[0-9a-f-]{20,}$/);
  check(/REQ-/.test(await page.locator('main h1').innerText()), 'the request has no reference');
  await page.locator('main .badges').getByText('Open').waitFor();

  step = 'admin: issues a recommendation (art. 27)';
  await page.goto('/recommendations/new');
  await heading(page, 'New recommendation');
  await page.getByLabel(label('Ministry or agency')).selectOption(s.orgA.id);
  await page.getByLabel(label('Title')).fill(`Enforce phishing-resistant MFA ${s.suffix}`);
  await page.getByLabel(label('Recommendation')).fill('Move privileged accounts to FIDO2 keys within 90 days.');
  await page.getByLabel(label('Due')).fill(due);
  await page.getByRole('button', { name: 'Issue', exact: true }).click();
  await page.waitForURL(/\/recommendations\/[0-9a-f-]{20,}$/);
  check(/REC-/.test(await page.locator('main h1').innerText()), 'the recommendation has no reference');
  await page.locator('main .badges').getByText('Issued').waitFor();

  step = 'admin: overview';
  await page.getByRole('navigation').getByRole('link', { name: 'Overview', exact: true }).click();
  await heading(page, 'Overview');
  await page.locator('.panel').filter({ hasText: 'Open and overdue requests' }).getByText(`Logs of the phishing wave ${s.suffix}`).waitFor();
  await page.locator('.card').first().waitFor();
  await page.locator('.heatmap-area table.heatmap').waitFor();
  const heat = await page.locator('.heatmap-area table.heatmap').innerText();
  check(heat.includes('T1078.003') && heat.includes('T1566.002'), `the heatmap lacks the alert's or the incident's technique: ${heat.slice(0, 300)}`);
  // The same counts as an ATT&CK Navigator layer, fetched as the download link would.
  const layerHref = await page.locator('a.heatmap-layer').getAttribute('href');
  const layer = await page.evaluate(async (href) => (await fetch(href, { credentials: 'same-origin' })).json(), layerHref);
  const layerIds = (layer.techniques ?? []).map((item) => item.techniqueID);
  check(layer.versions?.layer === '4.5' && layer.domain === 'enterprise-attack' && layerIds.includes('T1078.003') && layerIds.includes('T1566.002'),
    `the Navigator layer lacks the heatmap's techniques: ${JSON.stringify(layer).slice(0, 300)}`);
  check(await page.locator('canvas').count() >= 3, 'the overview draws fewer than three charts');
  await shot(page, 'overview', true);

  const pages = [
    ['Alerts', 'Alert queue', 'alerts'], ['Incidents', 'Incidents', 'incidents'], ['Cases', 'Cases', null], ['Advisories', 'Advisories', null],
    ['Requests for materials', 'Requests for materials', 'requests'], ['Recommendations', 'Recommendations', 'recommendations'],
    ['Audits', 'Audits', null], ['Standards', 'Standards', null],
    ['Events', 'Raw events', null], ['Intelligence', 'Threat intelligence', 'intel'], ['Detection rules', 'Detection rules', 'rules'],
    ['Organisations', 'Organisations', 'organizations'], ['Users', 'Users', 'users'], ['Sensors', 'Sensors', 'sensors'],
    ['Audit log', 'Audit log', 'audit'],
    ['Settings', 'Settings', 'settings'],
  ];
  for (const [link, title, name] of pages) {
    step = `admin: ${title}`;
    await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
    await heading(page, title);
    await page.waitForLoadState('networkidle');
    const text = await page.locator('main').innerText();
    check(!text.includes('This page could not be shown') && !text.includes('Something went wrong'), `${title} shows an error: ${text.slice(0, 300)}`);
    check(await page.locator('main .notice-error').count() === 0, `${title} shows an error notice: ${text.slice(0, 300)}`);
    if (name) await shot(page, name);
  }

  step = 'admin: an alert';
  await page.goto(`/alerts/${s.alert.id}`);
  await heading(page, s.alert.rule.title);
  const alertText = await page.locator('main').innerText();
  check(alertText.includes('Promoted'), 'the linked alert is not shown as promoted');
  check(/Occurrences\s+3\b/.test(alertText), 'the alert does not show its three occurrences');
  check(/Host\s+web01\b/.test(alertText), 'the alert does not name the host of its event');
  await shot(page, 'alert');

  step = 'admin: from the alert to the raw events of its host';
  await page.getByRole('link', { name: 'Events of this host, an hour each side' }).click();
  await heading(page, 'Raw events');
  const stored = page.locator('main tr').filter({ hasText: 'Accepted password for root from 203.0.113.50' });
  await stored.first().waitFor();
  check(await stored.count() === 3, `the host's hour shows ${await stored.count()} of the three events its sensor sent`);
  check(new URL(page.url()).searchParams.get('host') === 'web01', 'the raw events are not those of the alert\'s host');

  step = 'admin: reloads the rules (job with progress)';
  await page.goto('/rules');
  await heading(page, 'Detection rules');
  check(/Tuning\s+0 left out, 0 with their level changed/.test(await page.locator('main').innerText()),
    'the rules page does not say what tuning left out');
  // The rules' ATT&CK coverage as a Navigator layer: the seeded rule's technique is in it.
  const coverageHref = await page.locator('a.coverage-layer').getAttribute('href');
  const coverage = await page.evaluate(async (href) => (await fetch(href, { credentials: 'same-origin' })).json(), coverageHref);
  check(coverage.versions?.layer === '4.5' && (coverage.techniques ?? []).some((item) => typeof item.score === 'number' && item.score > 0),
    `the coverage layer scores no technique: ${JSON.stringify(coverage).slice(0, 300)}`);
  await page.getByRole('button', { name: 'Reload rules' }).click();
  const reload = page.locator('main > div > .job-area');
  await reload.locator('.job progress').waitFor({ state: 'attached' });
  await reload.locator('[data-job-state="succeeded"]').waitFor({ timeout: 60000 });
  check((await reload.innerText()).includes('Rule reload: done'), 'the reload job does not say it is done');
  await page.getByText(/Rule set \d+ loaded/).waitFor();

  step = 'admin: exports the alerts (job with progress)';
  await page.goto('/alerts');
  await heading(page, 'Alert queue');
  await page.getByRole('button', { name: 'Export' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(label('Format')).selectOption('jsonl');
  await dialog.getByRole('button', { name: 'Start export' }).click();
  await dialog.locator('[data-job-state="succeeded"]').waitFor({ timeout: 60000 });
  const download = dialog.getByRole('link', { name: 'Download the file' });
  await download.waitFor();
  const href = await download.getAttribute('href');
  const file = await page.context().request.get(href);
  check(file.status() === 200, `export download: ${file.status()}`);
  check((await file.text()).includes(s.alert.id), 'the export lacks the alert');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  step = 'admin: makes a sensor token, which ingests, then revokes it';
  await page.goto(`/sensors?org_id=${s.orgA.id}`);
  await heading(page, 'Sensors');
  await page.locator('main table').getByText(`e2e-sshd-${s.suffix}`).waitFor();
  await page.getByRole('button', { name: 'New sensor' }).click();
  let box = page.getByRole('dialog');
  await box.getByRole('button', { name: 'Create the sensor' }).click();
  await box.getByText('Required.').waitFor();
  await box.getByLabel(label('Name')).fill(`console-proxy-${s.suffix}`);
  await box.getByLabel(label('Product')).fill('Linux');
  await box.getByRole('button', { name: 'Create the sensor' }).click();
  await box.getByText('Use lowercase letters, digits, _ and - only (at most 64).').waitFor();
  await box.getByLabel(label('Product')).fill('linux');
  await box.getByLabel(label('Service')).fill('sshd');
  await box.getByRole('button', { name: 'Create the sensor' }).click();
  const sensorToken = await box.getByLabel('Sensor token').inputValue();
  check(/^ygs_/.test(sensorToken), `the new sensor's token is not shown: ${sensorToken.slice(0, 8)}`);
  check((await box.locator('pre.command').innerText()).includes('/api/v1/ingest'), 'the dialog does not show how to send events');
  const sendWith = async (token) => (await page.context().request.post('/api/v1/ingest', {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' },
    data: `${JSON.stringify({ message: 'Connection closed by 198.51.100.9 port 40022', host: 'proxy01', program: 'sshd' })}\n`,
  })).status();
  check(await sendWith(sensorToken) === 202, 'the sensor token made in the console does not ingest');
  await box.locator('.form-actions').getByRole('button', { name: 'Close', exact: true }).click();
  await box.waitFor({ state: 'detached' });
  const sensorRow = page.locator('main tr').filter({ hasText: `console-proxy-${s.suffix}` });
  await sensorRow.getByText('product=linux,service=sshd').waitFor();
  await sensorRow.getByRole('button', { name: `Revoke the token of console-proxy-${s.suffix}` }).click();
  box = page.getByRole('dialog');
  await box.getByRole('button', { name: 'Revoke' }).click();
  await sensorRow.getByText(/^Revoked /).waitFor();
  check(await sendWith(sensorToken) === 401, 'a revoked sensor token still ingests');
  await shot(page, 'sensors');

  step = 'admin: makes an API token in the settings, uses it, revokes it';
  await page.goto('/settings');
  await heading(page, 'Settings');
  await page.getByLabel(label('Name')).last().fill(`e2e-script-${s.suffix}`);
  await page.getByRole('button', { name: 'Create the token' }).click();
  const apiToken = await page.getByLabel('Token', { exact: true }).inputValue();
  check(/^ygt_/.test(apiToken), 'the new API token is not shown');
  const meWith = async () => (await page.context().request.get('/api/v1/auth/me', {
    headers: { Authorization: `Bearer ${apiToken}` },
  })).status();
  check(await meWith() === 200, 'the API token made in the console is refused');
  const tokenRow = page.locator('main tr').filter({ hasText: `e2e-script-${s.suffix}` });
  await tokenRow.getByText('Active').waitFor();
  await tokenRow.getByRole('button', { name: `Revoke the token e2e-script-${s.suffix}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await tokenRow.getByText('Revoked').waitFor();
  check(await meWith() === 401, 'a revoked API token is still accepted');
  await shot(page, 'settings-tokens', true);

  step = 'admin: creates a TAXII collection, grants access, publishes an indicator';
  await page.goto('/intel');
  await heading(page, 'Threat intelligence');
  await page.getByRole('button', { name: 'New collection' }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Title')).fill(`Phishing infrastructure ${s.suffix}`);
  await box.getByLabel(label('Alias')).fill(`phish-${s.suffix}`);
  await box.getByRole('button', { name: 'Create the collection' }).click();
  await box.waitFor({ state: 'detached' });
  const collectionRow = page.locator('main tr').filter({ hasText: `Phishing infrastructure ${s.suffix}` });
  await collectionRow.waitFor();
  await collectionRow.getByRole('button', { name: `Access to Phishing infrastructure ${s.suffix}` }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Organisation')).selectOption(s.orgA.id);
  await box.getByLabel('May read the collection').check();
  await box.getByRole('button', { name: 'Save' }).click();
  await box.waitFor({ state: 'detached' });
  await page.locator('main tr').filter({ hasText: `Phishing infrastructure ${s.suffix}` }).getByText(`${s.orgA.name} (Read)`).waitFor();
  await page.locator('main tr').filter({ hasText: `Phishing infrastructure ${s.suffix}` })
    .getByRole('button', { name: `Publish to Phishing infrastructure ${s.suffix}` }).click();
  box = page.getByRole('dialog');
  await box.getByLabel(label('Value')).fill('203.0.113.77');
  await box.getByRole('button', { name: 'Publish' }).click();
  await box.getByText(/Published \(\d+ STIX objects\)/).waitFor();
  const primary = await box.locator('.notice-success code').innerText();
  check(primary.startsWith('indicator--'), `publishing did not name the indicator: ${primary}`);
  await page.keyboard.press('Escape');
  await box.waitFor({ state: 'detached' });
  await shot(page, 'intel-collections', true);

  step = 'admin: keyboard — focus, skip link';
  await page.goto('/incidents');
  await heading(page, 'Incidents');
  const focusedTag = await page.evaluate(() => document.activeElement?.tagName ?? '');
  check(focusedTag === 'H1', `after navigation the focus is on ${focusedTag}, not the page heading`);
  const firstStop = await page.evaluate(() => document.querySelector('a[href], button, input, select, textarea')?.className ?? '');
  check(firstStop === 'skip-link', `the first focusable element is not the skip link: ${firstStop}`);
  await page.locator('.skip-link').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'main');
  await page.keyboard.press('Tab');
  const next = await page.evaluate(() => document.activeElement?.closest('main') !== null);
  check(next, 'Tab after the skip link does not stay in the main content');

  step = 'admin: sign-in page';
  await signOut(page);
  await shot(page, 'signin');
  await page.context().close();
}

async function main() {
  const seeded = await seed();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    const incident = await reporterFilesIncident(browser, seeded);
    log(`reporter filed ${incident.incidentId}`);
    await adminAssignsAnalyst(browser, seeded, incident);
    log('duty officer assigned the analyst');
    await adminAssignsRequest(browser, seeded);
    await analystAnswersRequest(browser, seeded);
    log('duty officer assigned the analyst to an AMBER+STRICT request, which the analyst answered');
    const advisory = await analystTriages(browser, seeded, incident);
    log(`analyst triaged, linked the alert and sent advisory ${advisory.advisoryId}`);
    await reporterAcknowledges(browser, seeded, incident, advisory);
    log('reporter acknowledged the advisory');
    await otherOrganisationSeesNothing(browser, seeded, incident, advisory);
    log('the other organisation saw nothing; Japanese works and is remembered');
    const investigation = await investigatorRunsCase(browser, seeded);
    log(`the investigator opened case ${investigation.caseId}, kept its evidence's custody and wrote its timeline`);
    const audit = await auditorOpensAudit(browser, seeded);
    log(`the auditor imported a catalog, assessed audit ${audit.auditId} and issued its report`);
    await auditeeAnswersRecommendation(browser, seeded, audit);
    log('the ministry\'s administrator reported the recommendation implemented');
    await auditorClosesAudit(browser, seeded, audit);
    log('the auditor verified the recommendation and closed the audit');
    await adminPages(browser, seeded);
    log('the administrator opened every page, reloaded the rules and exported alerts');
  } finally {
    await browser.close();
    await seeded.admin.context.dispose();
  }
  if (problems.length) {
    for (const problem of problems) console.error(`[e2e] FAIL ${problem}`);
    process.exit(1);
  }
  log('PASS');
}

main().catch((error) => {
  console.error(`[e2e] FAIL ${error.stack ?? error}`);
  for (const problem of problems) console.error(`[e2e] also: ${problem}`);
  process.exit(1);
});
