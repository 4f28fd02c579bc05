// Helpers for the console's end-to-end tests: the server's address and operator key, the API,
// the browser, signing in, reading the activity table, and checks every page must pass.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with scripts/e2e, which starts a server and sets it`);
  }
  return value;
}

export const BASE = required('TRAIL_URL').replace(/\/$/, '');
export const KEY = required('TRAIL_KEY');
export const ARTIFACTS = required('ARTIFACTS');
export const TENANT = 'demo';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const MANAGER = { email: 'manager@acme-legal.example', password: 'trail-demo-manager' };
export const MEMBER = {
  email: 'asha.rao@acme-legal.example',
  password: 'trail-demo-member',
  actorId: 'u_1001',
  name: 'Asha Rao',
};
export const ADMIN = { email: 'admin@acme-legal.example', password: 'trail-demo-admin' };

export const ROWS = 'table.events tbody#rows tr[data-seq]';
export const PAGE_SIZE = 50;

// ---------------------------------------------------------------------------------------------
// The API, with the operator key

async function api(method, apiPath, body) {
  const resp = await fetch(BASE + apiPath, {
    method,
    headers: {
      Authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: resp.status, headers: resp.headers, json, text };
}

/** GET an API path with the operator key; fails the test unless it answers 200 with JSON. */
export async function apiGet(apiPath) {
  const r = await api('GET', apiPath);
  assert.equal(r.status, 200, `GET ${apiPath} answered ${r.status}: ${r.text.slice(0, 500)}`);
  assert.ok(r.json !== undefined, `GET ${apiPath} did not answer JSON: ${r.text.slice(0, 200)}`);
  return r.json;
}

/** POST JSON with the operator key; fails the test unless the status is one of `expect`. */
export async function apiPost(apiPath, body, expect = [200, 201]) {
  const r = await api('POST', apiPath, body);
  const ok = [expect].flat();
  assert.ok(ok.includes(r.status), `POST ${apiPath} answered ${r.status}, expected ${ok.join(' or ')}: ${r.text.slice(0, 500)}`);
  return r.json;
}

/**
 * Every event matching `params` (URLSearchParams or an object), newest first, following
 * next_cursor. With `since` (a Date) and `shown` (the seqs a page or file holds), the events
 * Trail wrote about the tests' own viewing and exporting (trail.logs.*) since then are left out
 * unless shown: they may not have existed yet when the page or file was made. Nothing else is.
 */
export async function apiEvents(params, { since, shown = [], maxPages = 50 } = {}) {
  const base = new URLSearchParams(params);
  base.set('limit', '1000');
  const events = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const q = new URLSearchParams(base);
    if (cursor) q.set('cursor', cursor);
    const body = await apiGet(`/v1/tenants/${TENANT}/events?${q}`);
    assert.ok(Array.isArray(body.events), `events answer has no "events" list: ${JSON.stringify(body).slice(0, 300)}`);
    events.push(...body.events);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  assert.ok(!cursor, `more than ${maxPages * 1000} events match ${base}: narrow the test's filters`);
  const seen = new Set(shown);
  return events.filter((e) => !(since && isOwnAuditEvent(e, since) && !seen.has(Number(e.seq))));
}

function isOwnAuditEvent(event, since) {
  return (
    typeof event.action === 'string' &&
    event.action.startsWith('trail.logs.') &&
    new Date(event.received_at).getTime() >= since.getTime() - 1000
  );
}

export const seqsOf = (events) => events.map((e) => Number(e.seq));

/** What the console adds to `q` to hide Trail's own events (category `trail`). */
export const HIDE_TRAIL_Q = '-category:trail';

/**
 * The API query equivalent to a console URL: its search params without empty values, without
 * `range` when it is `custom` (from/to then carry the range). A console page hides Trail's own
 * events unless `show_trail` is given or its filters name them, by adding `-category:trail` to
 * `q`; an API URL (a Download link) already says so itself.
 */
export function apiParamsFor(pageUrl) {
  const url = new URL(pageUrl);
  const src = url.searchParams;
  const out = new URLSearchParams();
  for (const [k, v] of src) {
    if (v === '') continue;
    if (k === 'range' && v === 'custom') continue;
    if (k === 'show_trail') continue;
    out.append(k, v);
  }
  if (url.pathname.startsWith('/console/') && hidesTrail(src)) return withTrailHidden(out);
  return out;
}

/**
 * Whether a console URL's view hides Trail's own events: not when `show_trail` is given, when
 * report types or categories are chosen (exactly those show), or when `q` names Trail's.
 */
function hidesTrail(src) {
  if (src.get('show_trail')) return false;
  if (src.getAll('action').some((a) => a) || src.getAll('category').some((c) => c)) return false;
  const asks = (a) => (a.endsWith('*') ? a.startsWith('trail.') || 'trail.'.startsWith(a.slice(0, -1)) : a.startsWith('trail.'));
  const terms = (src.get('q') || '').split(/\s+/);
  return !terms.some((t) => t === 'category:trail' || (t.startsWith('action:') && asks(t.slice(7))));
}

/** `params` with Trail's own events left out, as the console's Activity does by default. */
export function withTrailHidden(params) {
  const out = new URLSearchParams(params);
  const q = out.get('q');
  out.set('q', q ? `${q} ${HIDE_TRAIL_Q}` : HIDE_TRAIL_Q);
  return out;
}

/** The same parameters, sorted, as a comparable list of [key, value] pairs. */
export function sortedPairs(params) {
  return [...new URLSearchParams(params)].sort((a, b) =>
    a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1,
  );
}

/** Ingest one event with the operator key; returns its seq. */
export async function ingest(event) {
  const body = await apiPost(`/v1/tenants/${TENANT}/events`, event, 201);
  assert.equal(body.accepted, 1, `ingest accepted ${body.accepted} events: ${JSON.stringify(body)}`);
  const seq = Number(body.events?.[0]?.seq);
  assert.ok(Number.isInteger(seq) && seq > 0, `ingest answered no seq: ${JSON.stringify(body)}`);
  return seq;
}

// ---------------------------------------------------------------------------------------------
// The browser

let browser;

export async function launchBrowser() {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM} (scripts/e2e installs it with apt)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser;
}

export async function closeBrowser() {
  if (browser) await browser.close();
  browser = undefined;
}

/**
 * One test's browser contexts. Every HTML page the server answers in them is checked for a
 * Content-Security-Policy whose script-src has no 'unsafe-inline'; page errors and requests
 * leaving loopback are recorded too. `finish()` closes everything and asserts those checks.
 */
export class Session {
  constructor(name) {
    this.name = name;
    this.contexts = [];
    this.pages = [];
    this.documents = [];
    this.cspProblems = [];
    this.pageErrors = [];
    this.cspViolations = [];
    this.offsite = [];
  }

  async newPage({ width = 1280, height = 900, ...options } = {}) {
    assert.ok(browser, 'the browser is not running');
    const context = await browser.newContext({
      viewport: { width, height },
      acceptDownloads: true,
      locale: 'en-GB',
      ...options,
    });
    this.contexts.push(context);
    context.on('response', (resp) => this.#checkResponse(resp));
    context.on('request', (req) => {
      const u = req.url();
      if (/^https?:/.test(u) && !u.startsWith(BASE)) this.offsite.push(u);
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.setDefaultNavigationTimeout(20_000);
    page.on('pageerror', (err) => this.pageErrors.push(`${page.url()}: ${err.message}`));
    // The console's own scripts and styles must not be blocked by its own policy.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
        this.cspViolations.push(`${page.url()}: ${msg.text()}`);
      }
    });
    this.pages.push(page);
    return page;
  }

  #checkResponse(resp) {
    // Pages: HTML documents from the server (not redirects, not Load more's fetched rows).
    if (!resp.url().startsWith(BASE) || resp.request().resourceType() !== 'document') return;
    const status = resp.status();
    if (status >= 300 && status < 400) return;
    const headers = resp.headers();
    if (!(headers['content-type'] || '').startsWith('text/html')) return;
    this.documents.push(resp.url());
    const problem = cspProblem(headers['content-security-policy']);
    if (problem) this.cspProblems.push(`${status} ${resp.url()}: ${problem}`);
  }

  /** Saves a screenshot of every open page into ARTIFACTS (after a failure). */
  async screenshotAll(label) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    let i = 0;
    for (const page of this.pages) {
      if (page.isClosed()) continue;
      const file = path.join(ARTIFACTS, `failed-${slug(label)}-${i++}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    }
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
    this.contexts = [];
  }

  assertPageChecks() {
    assert.deepEqual(this.cspProblems, [], 'pages without a safe Content-Security-Policy');
    assert.deepEqual(this.pageErrors, [], 'uncaught script errors in the console pages');
    assert.deepEqual(this.cspViolations, [], 'the pages\' own content was blocked by their Content-Security-Policy');
    assert.deepEqual(this.offsite, [], 'the console made requests beyond the Trail server');
    if (this.pages.length > 0) assert.ok(this.documents.length > 0, 'no HTML page was checked for its CSP');
  }
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

/** Why a Content-Security-Policy header value does not forbid inline scripts, or null if it does. */
export function cspProblem(header) {
  if (!header) return 'no Content-Security-Policy header';
  const directives = new Map();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
  }
  const scriptSrc = directives.get('script-src') ?? directives.get('default-src');
  if (!scriptSrc) return `neither script-src nor default-src restricts scripts: "${header}"`;
  if (scriptSrc.some((v) => v.toLowerCase() === "'unsafe-inline'")) return `script-src allows 'unsafe-inline': "${header}"`;
  return null;
}

/**
 * A test that gets a Session: its contexts are closed afterwards, a failure leaves screenshots
 * in ARTIFACTS, and every page seen must have passed the Session's checks.
 */
export function browserTest(test, name, fn) {
  test(name, { timeout: 180_000 }, async (t) => {
    const session = new Session(name);
    try {
      await fn(session, t);
    } catch (err) {
      await session.screenshotAll(name);
      throw err;
    } finally {
      await session.close();
    }
    session.assertPageChecks();
  });
}

// ---------------------------------------------------------------------------------------------
// The console

/** Runs `action` (a click, a goto) and waits until the main frame has loaded a new document. */
export async function navigation(page, action) {
  const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  const responded = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.request().frame() === page.mainFrame() &&
      (r.status() < 300 || r.status() >= 400),
  );
  committed.catch(() => {});
  responded.catch(() => {});
  await action();
  await committed;
  await page.waitForLoadState('load');
  return Promise.race([responded.catch(() => null), sleep(2000).then(() => null)]);
}

/** Signs in through the sign-in form and waits for the Activity page. */
export async function signIn(page, { email, password }) {
  const resp = await page.goto(`${BASE}/console/sign-in?tenant=${TENANT}`);
  assert.equal(resp.status(), 200, `GET /console/sign-in answered ${resp.status()}`);
  const form = page.locator('form:has(input[name=password])');
  await form.locator('input[name=tenant]').fill(TENANT);
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=password]').fill(password);
  await navigation(page, () => form.locator('button[type=submit], input[type=submit]').first().click());
  const url = new URL(page.url());
  if (url.pathname !== '/console/activity') {
    const text = (await page.locator('body').innerText()).slice(0, 300);
    assert.fail(`signing in as ${email} landed on ${url.pathname}, not /console/activity: ${text}`);
  }
}

/** Submits the filter form (the Refresh button) and waits for the new page. */
export async function submitFilters(page) {
  const resp = await navigation(page, () => page.locator('form#filters #refresh').click());
  const url = new URL(page.url());
  assert.equal(url.pathname, '/console/activity', 'the filter form did not submit to the same page');
  if (resp) assert.equal(resp.status(), 200, `submitting the filters answered ${resp.status()}`);
  return url;
}

/** The seqs of the table's rows, in page order. */
export async function rowSeqs(page) {
  const values = await page.locator(ROWS).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-seq')));
  return values.map((v) => {
    assert.match(v, /^[1-9][0-9]*$/, `a row's data-seq is not a seq: ${JSON.stringify(v)}`);
    return Number(v);
  });
}

/**
 * Clicks "Load more" until it is gone (or `maxClicks` times), checking that each click appends
 * the next rows to the same table without leaving the page. Returns the seqs of all rows and
 * whether a "Load more" link is still there.
 */
export async function loadAllRows(page, { maxClicks = 40 } = {}) {
  const startUrl = page.url();
  let count = await page.locator(ROWS).count();
  const more = page.locator('#load-more');
  for (let clicks = 0; clicks < maxClicks && (await more.count()) > 0; clicks++) {
    assert.equal(count % PAGE_SIZE, 0, `"Load more" is shown after ${count} rows, which is not a multiple of ${PAGE_SIZE}`);
    await more.click();
    await page
      .waitForFunction(
        ({ selector, before }) =>
          document.querySelectorAll(selector).length > before || !document.querySelector('#load-more'),
        { selector: ROWS, before: count },
        { timeout: 15_000 },
      )
      .catch(() => assert.fail(`clicking "Load more" after ${count} rows neither added rows nor went away within 15 s`));
    assert.equal(page.url(), startUrl, '"Load more" left the page instead of appending rows in place');
    const now = await page.locator(ROWS).count();
    assert.ok(now - count <= PAGE_SIZE, `"Load more" added ${now - count} rows, more than a page of ${PAGE_SIZE}`);
    count = now;
  }
  return { seqs: await rowSeqs(page), more: (await more.count()) > 0 };
}

/** Values of a select's options (inside optgroups too). */
export async function optionValues(page, selector) {
  return page.locator(`${selector} option`).evaluateAll((os) => os.map((o) => o.value));
}

/** Parses RFC 4180 CSV into rows of strings. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte order mark
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  assert.ok(!quoted, 'the CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** PNG width and height from its IHDR chunk. */
export function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}
