// End-to-end tests of the web console (docs/console.md) in headless Chromium, against a
// `trail serve --demo` that scripts/e2e starts. Each test compares what the browser shows with
// what the API answers for the same question, using the operator key.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  ARTIFACTS,
  BASE,
  ADMIN,
  MANAGER,
  MEMBER,
  PAGE_SIZE,
  ROWS,
  TENANT,
  apiEvents,
  apiGet,
  apiParamsFor,
  apiPost,
  withTrailHidden,
  browserTest,
  closeBrowser,
  ingest,
  launchBrowser,
  loadAllRows,
  navigation,
  optionValues,
  parseCsv,
  pngSize,
  rowSeqs,
  seqsOf,
  signIn,
  sleep,
  sortedPairs,
  submitFilters,
} from '../lib/trail.mjs';

before(launchBrowser);
after(closeBrowser);

const TIME_ZONE = 'Europe/London'; // the demo tenant's
const RANGES = ['today', 'yesterday', 'last_7_days', 'last_30_days', 'last_90_days', 'all', 'custom'];
const FORMATS = ['csv', 'xlsx', 'pdf', 'docx'];
const XSS_DESCRIPTION = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
const XSS_NAME = 'Eve <b>bold</b>';

// Set by test 1 (the filtered view it built), used by test 2 (its downloads).
let filteredView = null;

async function heading(page) {
  return (await page.locator('h1').first().innerText()).trim();
}

/** A word of `text` to search for: letters only, 4+ long, preferring ones not in `avoid`. */
function searchWordFrom(text, avoid = []) {
  const avoided = new Set(avoid.flatMap((a) => (a || '').toLowerCase().split(/[^\p{L}\p{N}]+/u)));
  const words = (text || '').split(/[^\p{L}\p{N}]+/u).filter((w) => /^[A-Za-z]{4,}$/.test(w));
  const preferred = words.filter((w) => !avoided.has(w.toLowerCase()));
  return (preferred.length ? preferred : words).sort((a, b) => b.length - a.length)[0];
}

/** Reloads an event page until its proof section says proven, for up to `ms`. */
async function waitUntilProven(page, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const proof = page.locator('section.proof');
    assert.equal(await proof.count(), 1, `the event page ${page.url()} has no section.proof`);
    if ((await proof.getAttribute('data-proven')) === 'true') return proof;
    if (Date.now() > deadline) {
      const text = (await proof.innerText()).trim();
      assert.fail(`event page ${page.url()} not proven after ${ms} ms: data-proven=${await proof.getAttribute('data-proven')}, "${text}"`);
    }
    await sleep(500);
    await page.reload();
  }
}

/** The rows of table.fields as [label, value] pairs. */
async function fieldRows(page) {
  return page.locator('table.fields tr').evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim());
      return [cells[0] ?? '', cells.slice(1).join(' ')];
    }),
  );
}

/** Asserts the page's scripts are only the console's own app.js. */
async function assertOnlyAppScript(page) {
  const srcs = await page.locator('script').evaluateAll((ss) => ss.map((s) => s.getAttribute('src')));
  const bad = srcs.filter((src) => !src || new URL(src, BASE).pathname !== '/console/static/app.js');
  assert.deepEqual(bad, [], `script elements other than /console/static/app.js on ${page.url()}`);
}

/**
 * A member's first page: exactly the first page of the API's events of that actor, without
 * Trail's own (hidden by default).
 */
async function assertMemberView(page, actorId, since) {
  assert.equal(await heading(page), 'My activity', 'a member\'s Activity heading');
  assert.equal(await page.locator('select[name=actor]').count(), 0, 'a member is offered the user filter');
  const shown = await rowSeqs(page);
  const expected = seqsOf(await apiEvents(withTrailHidden({ actor: actorId }), { since, shown })).slice(0, PAGE_SIZE);
  assert.ok(expected.length > 0, `the demo has no events of ${actorId} in the last 30 days`);
  assert.deepEqual(shown, expected, `a member's rows are not exactly their own events (actor=${actorId})`);
}

// ---------------------------------------------------------------------------------------------

browserTest(test, '1. a manager filters by preset, user, report type and search: rows equal the API', async (s, t) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  assert.equal(await heading(page), 'Activity');

  // The filter form as the contract describes it.
  const form = page.locator('form#filters');
  assert.equal(await form.count(), 1, 'no form#filters');
  assert.equal(((await form.getAttribute('method')) || 'get').toLowerCase(), 'get', 'form#filters is not a GET form');
  assert.deepEqual((await optionValues(page, 'select#range[name=range]')).sort(), [...RANGES].sort(), 'range options');
  assert.equal(await page.locator('select#range').inputValue(), 'last_30_days', 'the default range');
  for (const name of ['from', 'to']) {
    assert.equal(await page.locator(`input[name=${name}]`).getAttribute('type'), 'date', `input[name=${name}] type`);
  }
  assert.equal(await page.locator('input[name=from]').isVisible(), false, 'the From date shows although the range is not custom');
  await page.selectOption('select#range', 'custom');
  assert.equal(await page.locator('input[name=from]').isVisible(), true, 'the From date does not show for range=custom');
  assert.equal(await page.locator('input[name=to]').isVisible(), true, 'the To date does not show for range=custom');

  // Pick a user (u_1001 first) who has events in the last 7 days, and their commonest report type.
  const actors = await optionValues(page, 'select[name=actor][multiple]');
  assert.ok(actors.length > 0, 'the user filter has no options');
  const actions = await optionValues(page, 'select[name=action][multiple]');
  assert.ok(actions.length > 0, 'the report type filter has no options');
  assert.equal(await page.locator('select[name=action] > option').count(), 0, 'report types outside an <optgroup>');
  assert.ok(await page.locator('select[name=action] optgroup').count() > 0, 'report types are not grouped by category');
  for (const a of actions) assert.match(a, /^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'a report type option is not an action name');

  const candidates = [...new Set([actors.includes(MEMBER.actorId) ? MEMBER.actorId : actors[0], ...actors])].slice(0, 8);
  let actor;
  let action;
  for (const a of candidates) {
    const counts = new Map();
    for (const e of await apiEvents({ range: 'last_7_days', actor: a })) {
      if (actions.includes(e.action)) counts.set(e.action, (counts.get(e.action) || 0) + 1);
    }
    const best = [...counts].sort((x, y) => y[1] - x[1])[0];
    if (best) {
      actor = a;
      action = best[0];
      break;
    }
  }
  assert.ok(actor, `none of the users ${candidates.join(', ')} has an event in the last 7 days with an offered report type`);

  await page.selectOption('select#range', 'last_7_days');
  assert.equal(await page.locator('input[name=from]').isVisible(), false, 'the From date still shows after leaving custom');
  await page.selectOption('select[name=actor]', [actor]);
  await page.selectOption('select[name=action]', [action]);
  await submitFilters(page);
  const narrowed = await rowSeqs(page);
  assert.ok(narrowed.length > 0, `no rows for range=last_7_days actor=${actor} action=${action}, though the API has some`);
  {
    // Without the search yet: every row, Load more included, is the API's answer.
    const since = new Date();
    const { seqs, more } = await loadAllRows(page);
    assert.equal(more, false, '"Load more" is still there after loading every row');
    const expected = seqsOf(await apiEvents(apiParamsFor(page.url()), { since, shown: seqs }));
    assert.deepEqual(seqs, expected, `the rows differ from GET /events?${apiParamsFor(page.url())}`);
    t.diagnostic(`actor=${actor} action=${action}: ${seqs.length} rows`);
  }

  // A word from the first row's remarks, so the search keeps at least that row.
  const firstEvent = await apiGet(`/v1/tenants/${TENANT}/events/${narrowed[0]}`);
  const word = searchWordFrom(firstEvent.description, [firstEvent.actor?.name]) || searchWordFrom(firstEvent.report_type);
  assert.ok(word, `no searchable word in event ${narrowed[0]}: ${JSON.stringify(firstEvent.description)}`);
  await page.locator('input[name=q]').fill(word);
  const since = new Date();
  const url = await submitFilters(page);

  // The page URL carries the form's filters, and the form shows them again.
  const params = url.searchParams;
  assert.equal(params.get('range'), 'last_7_days');
  assert.deepEqual(params.getAll('actor'), [actor]);
  assert.deepEqual(params.getAll('action'), [action]);
  assert.equal(params.get('q'), word);
  assert.equal(await page.locator('select#range').inputValue(), 'last_7_days', 'the range is not kept after submitting');
  assert.equal(await page.locator('input[name=q]').inputValue(), word, 'the search is not kept after submitting');
  const selectedActors = await page.locator('select[name=actor] option:checked').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(selectedActors, [actor], 'the user filter is not kept after submitting');

  // Every row, Load more included, is exactly the API's answer, in order.
  const { seqs: shown, more } = await loadAllRows(page);
  assert.equal(more, false, '"Load more" is still there after loading every row');
  const apiParams = apiParamsFor(page.url());
  const expected = seqsOf(await apiEvents(apiParams, { since, shown }));
  assert.ok(expected.length > 0, `the API finds nothing for ${apiParams}, though event ${narrowed[0]} has "${word}"`);
  assert.ok(shown.includes(narrowed[0]), `event ${narrowed[0]}, whose remarks have "${word}", is not shown`);
  assert.deepEqual(shown, expected, `the rows differ from GET /events?${apiParams}`);
  assert.equal(await page.locator('section.empty').count(), 0, 'section.empty shows although there are rows');

  // The chart has a bar per day of the range (the timeline report lists every day).
  const timeline = await apiGet(`/v1/tenants/${TENANT}/reports/timeline?interval=day&${apiParams}`);
  assert.equal(timeline.rows.length, 7, 'the timeline report of last_7_days does not have 7 days');
  assert.equal(await page.locator('section.chart svg rect').count(), timeline.rows.length, 'chart bars for last_7_days');

  filteredView = { url: page.url(), apiParams };
  t.diagnostic(`and q=${word}: ${shown.length} rows`);
});

browserTest(test, '1b. "Load more" appends the next 50 rows in place, in the API\'s order', async (s, t) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  // Trail's own audit events, which the tests' page views keep adding, are hidden by default.
  assert.equal(await page.locator('input#show-trail').isChecked(), false, '"Show Trail\'s own events" is on by default');
  const since = new Date();
  await submitFilters(page);
  const expected = seqsOf(await apiEvents(apiParamsFor(page.url()), { since, shown: await rowSeqs(page) }));
  assert.ok(expected.length > PAGE_SIZE, `the demo has only ${expected.length} events in the last 30 days: too few to test Load more`);
  assert.equal(await page.locator(ROWS).count(), PAGE_SIZE, 'the first page does not have 50 rows');
  assert.equal(await page.locator('#load-more').count(), 1, 'no "Load more" although there are more rows');

  const { seqs, more } = await loadAllRows(page, { maxClicks: 3 });
  assert.equal(new Set(seqs).size, seqs.length, 'a row shows twice after Load more');
  t.diagnostic(`${seqs.length} rows loaded of ${expected.length}`);
  if (more) {
    assert.equal(seqs.length, 4 * PAGE_SIZE, 'rows after three Load more clicks');
    assert.deepEqual(seqs, expected.slice(0, seqs.length), 'the loaded rows differ from the API\'s first pages');
  } else {
    assert.deepEqual(seqs, expected, 'the loaded rows differ from the API\'s answer');
  }
});

browserTest(test, '1c. a custom date range shows exactly the events of those days', async (s, t) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  // Three whole days, 10 to 8 days ago, as dates in the tenant's zone.
  const day = (daysAgo) => new Date(Date.now() - daysAgo * 86400_000).toLocaleDateString('en-CA', { timeZone: TIME_ZONE });
  const [from, to] = [day(10), day(8)];
  await page.selectOption('select#range', 'custom');
  await page.locator('input[name=from]').fill(from);
  await page.locator('input[name=to]').fill(to);
  const since = new Date();
  const url = await submitFilters(page);
  assert.equal(url.searchParams.get('range'), 'custom');
  assert.equal(url.searchParams.get('from'), from);
  assert.equal(url.searchParams.get('to'), to);
  assert.equal(await page.locator('input[name=from]').inputValue(), from, 'the From date is not kept after submitting');
  assert.equal(await page.locator('input[name=from]').isVisible(), true, 'the custom dates are hidden although range=custom');

  const { seqs, more } = await loadAllRows(page);
  assert.equal(more, false, '"Load more" is still there after loading every row');
  const apiParams = apiParamsFor(page.url());
  assert.deepEqual(sortedPairs(apiParams), [['from', from], ['q', '-category:trail'], ['to', to]]);
  const expected = seqsOf(await apiEvents(apiParams, { since, shown: seqs }));
  assert.ok(expected.length > 0, `the demo has no events from ${from} to ${to}`);
  assert.deepEqual(seqs, expected, `the rows differ from GET /events?${apiParams}`);
  assert.equal(await page.locator('section.chart svg rect').count(), 3, `chart bars for ${from} to ${to}`);
  t.diagnostic(`${from} to ${to}: ${seqs.length} rows`);
});

browserTest(test, '2. the Download links export exactly the filtered view; the CSV has the API\'s seqs', async (s, t) => {
  assert.ok(filteredView, 'test 1 did not build the filtered view this test downloads');
  const page = await s.newPage();
  await signIn(page, MANAGER);
  const resp = await page.goto(filteredView.url);
  assert.equal(resp.status(), 200);

  const links = page.locator('.downloads a[data-format]');
  const formats = await links.evaluateAll((as) => as.map((a) => a.getAttribute('data-format')));
  assert.deepEqual([...formats].sort(), [...FORMATS].sort(), 'download formats');
  const wantFilters = sortedPairs(filteredView.apiParams);
  const hrefs = {};
  for (const f of FORMATS) {
    const href = await page.locator(`.downloads a[data-format=${f}]`).getAttribute('href');
    const u = new URL(href, BASE);
    assert.equal(u.pathname, `/v1/tenants/${TENANT}/export`, `the ${f} link's path`);
    assert.deepEqual(u.searchParams.getAll('format'), [f], `the ${f} link's format`);
    const filters = apiParamsFor(u.href);
    filters.delete('format');
    assert.deepEqual(sortedPairs(filters), wantFilters, `the ${f} link's filters differ from the page's`);
    hrefs[f] = u.href;
  }

  // The CSV, downloaded by clicking its link as a person would.
  const since = new Date();
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }),
    page.locator('.downloads a[data-format=csv]').click(),
  ]);
  assert.equal(await download.failure(), null, 'the CSV download failed');
  assert.match(download.suggestedFilename(), /^trail-demo-activity-.+\.csv$/, 'the CSV file name');
  const csv = parseCsv(fs.readFileSync(await download.path(), 'utf8')).filter((r) => r.length > 1 || r[0] !== '');
  assert.deepEqual(csv[0].slice(0, 5), ['Seq', 'Date', 'User', 'Email', 'Report Type'], 'the CSV header');
  const csvSeqs = csv.slice(1).map((r) => Number(r[0]));
  const expected = seqsOf(await apiEvents(filteredView.apiParams, { since, shown: csvSeqs }));
  assert.ok(expected.length > 0);
  assert.deepEqual(csvSeqs, expected, 'the CSV\'s Seq column differs from the API\'s answer');
  t.diagnostic(`${download.suggestedFilename()}: ${csvSeqs.length} rows`);

  // Every format answers with an attachment of its kind, on the session cookie alone.
  const magic = { csv: null, xlsx: 'PK\u0003\u0004', docx: 'PK\u0003\u0004', pdf: '%PDF-' };
  for (const f of FORMATS) {
    const r = await page.context().request.get(hrefs[f], { timeout: 60_000 });
    assert.equal(r.status(), 200, `GET ${hrefs[f]} with the session cookie answered ${r.status()}`);
    assert.match(r.headers()['content-disposition'] || '', /^attachment\b/i, `the ${f} download's Content-Disposition`);
    const body = await r.body();
    if (magic[f]) assert.equal(body.subarray(0, magic[f].length).toString('latin1'), magic[f], `the ${f} file's first bytes`);
    else assert.ok(body.toString('utf8').replace(/^\uFEFF/, '').startsWith('Seq,Date,User,Email,Report Type'), 'the CSV header');
  }
});

browserTest(test, '3. an event opened from the table is proven and lists its fields', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  const seqs = await rowSeqs(page);
  assert.ok(seqs.length > 0, 'the default Activity view has no rows');

  // Each row's first cell links to its event.
  const links = await page.locator(ROWS).evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-seq'), r.querySelector('td a.open')?.getAttribute('href') ?? null,
      r.querySelector('td')?.contains(r.querySelector('a.open')) ?? false]),
  );
  for (const [seq, href, inFirstCell] of links) {
    assert.ok(href, `row ${seq} has no a.open`);
    assert.equal(new URL(href, BASE).pathname, `/console/events/${seq}`, `row ${seq}'s link`);
    assert.ok(inFirstCell, `row ${seq}'s a.open is not in its first cell`);
  }

  const seq = seqs[Math.min(3, seqs.length - 1)];
  const resp = await navigation(page, () => page.locator(`${ROWS}[data-seq="${seq}"] a.open`).first().click());
  assert.equal(new URL(page.url()).pathname, `/console/events/${seq}`);
  if (resp) assert.equal(resp.status(), 200);
  assert.ok((await heading(page)).length > 0, 'the event page has an empty h1');
  const proof = await waitUntilProven(page);
  assert.match(await proof.innerText(), /Proven/, 'the proof section does not say "Proven"');

  const event = await apiGet(`/v1/tenants/${TENANT}/events/${seq}`);
  const fields = await fieldRows(page);
  const seqField = fields.find(([label]) => /^seq/i.test(label));
  assert.ok(seqField, `table.fields has no Seq row; its labels: ${fields.map((f) => f[0]).join(', ')}`);
  assert.equal(seqField[1], String(seq), 'the Seq field');
  const text = await page.locator('table.fields').innerText();
  assert.ok(text.includes(event.action), `table.fields does not show the action ${event.action}`);
  if (event.actor?.id) assert.ok(text.includes(event.actor.id), `table.fields does not show the actor id ${event.actor.id}`);

  // An event ingested just now is proven within a few seconds (checkpoints follow within ~1 s).
  const fresh = await ingest({
    action: 'document.signed',
    actor: { id: 'u_e2e_proof', name: 'Proof Check' },
    description: 'e2e proof check',
  });
  const freshResp = await page.goto(`${BASE}/console/events/${fresh}`);
  assert.equal(freshResp.status(), 200);
  await waitUntilProven(page, 5000);
});

browserTest(test, '4. a member sees only their own events, and another person\'s event is 404', async (s) => {
  const page = await s.newPage();
  const since = new Date();
  await signIn(page, MEMBER);
  await assertMemberView(page, MEMBER.actorId, since);

  // Their own event opens; someone else's answers 404.
  const own = (await rowSeqs(page))[0];
  const ownResp = await page.goto(`${BASE}/console/events/${own}`);
  assert.equal(ownResp.status(), 200, `a member opening their own event ${own}`);

  const recent = (await apiGet(`/v1/tenants/${TENANT}/events?limit=200`)).events;
  const others = recent.filter((e) => e.actor?.id && e.actor.id !== MEMBER.actorId && e.actor.email !== MEMBER.email);
  const other = others.find((e) => e.actor.id === 'u_1002') ?? others[0];
  assert.ok(other, 'no event by another user among the latest 200');
  const otherResp = await page.goto(`${BASE}/console/events/${other.seq}`);
  assert.equal(otherResp.status(), 404, `a member opening event ${other.seq} of ${other.actor.id}`);
  assert.ok(!(await page.content()).includes(other.description || '\u0000'), 'the 404 page shows the other person\'s event');
});

browserTest(test, '5. a viewer-token URL signs a fresh browser in', async (s) => {
  const minted = await apiPost(`/v1/tenants/${TENANT}/viewer-tokens`, { role: 'manager' });
  assert.ok(minted.token, 'no token');
  assert.match(minted.url, /^\/console\/viewer\?token=/, 'the viewer url is not a relative /console/viewer?token= path');
  const expires = new Date(minted.expires_at).getTime();
  assert.ok(expires > Date.now() && expires <= Date.now() + 3600_000 + 5000, `expires_at ${minted.expires_at} is not within the next hour`);

  const page = await s.newPage();
  const resp = await page.goto(BASE + minted.url);
  assert.equal(new URL(page.url()).pathname, '/console/activity', 'a viewer-token URL did not land on the Activity page');
  assert.equal(resp.status(), 200);
  assert.equal(await heading(page), 'Activity');
  assert.ok((await page.locator(ROWS).count()) > 0, 'the viewer sees no rows');
  await page.reload();
  assert.equal(new URL(page.url()).pathname, '/console/activity', 'the viewer session does not last beyond the first page');

  // A member's token shows only that member's events.
  const memberToken = await apiPost(`/v1/tenants/${TENANT}/viewer-tokens`, { role: 'member', actor_id: MEMBER.actorId });
  const memberPage = await s.newPage();
  const since = new Date();
  await memberPage.goto(BASE + memberToken.url);
  assert.equal(new URL(memberPage.url()).pathname, '/console/activity', 'a member viewer-token URL did not land on Activity');
  await assertMemberView(memberPage, MEMBER.actorId, since);
});

browserTest(test, '6. a stored <script> in remarks and names is shown as text, never run', async (s) => {
  const seq = await ingest({
    action: 'document.signed',
    actor: { id: 'u_xss', name: XSS_NAME },
    description: XSS_DESCRIPTION,
  });
  const page = await s.newPage();
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await signIn(page, MANAGER);

  const resp = await page.goto(`${BASE}/console/activity?q=${encodeURIComponent('actor:u_xss')}`);
  assert.equal(resp.status(), 200);
  assert.deepEqual(await rowSeqs(page), seqsOf(await apiEvents({ q: 'actor:u_xss' })), 'rows for q=actor:u_xss');
  const row = page.locator(`${ROWS}[data-seq="${seq}"]`);
  assert.equal(await row.count(), 1, `the ingested event ${seq} is not shown`);
  const rowText = await row.innerText();
  assert.ok(rowText.includes('<script>window.__xss=1</script>'), `the row does not show the script as text: ${rowText}`);
  assert.ok(rowText.includes(XSS_NAME), `the row does not show the name as text: ${rowText}`);
  assert.equal(await row.locator('b, img, script').count(), 0, 'stored HTML became elements in the row');

  const checkNothingRan = async () => {
    await sleep(500); // let an injected onerror fire, if there were one
    assert.equal(await page.evaluate(() => typeof window.__xss), 'undefined', 'stored script ran');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'the stored <img onerror> became an element');
    await assertOnlyAppScript(page);
    assert.deepEqual(dialogs, [], 'a dialog opened');
  };
  await checkNothingRan();

  // The event's own page too.
  const eventResp = await page.goto(`${BASE}/console/events/${seq}`);
  assert.equal(eventResp.status(), 200);
  const fieldsText = await page.locator('table.fields').innerText();
  assert.ok(fieldsText.includes(XSS_DESCRIPTION), 'the event page does not show the remarks as text');
  assert.ok(fieldsText.includes(XSS_NAME), 'the event page does not show the name as text');
  await checkNothingRan();
});

browserTest(test, '7. the Activity page fits 1280 px and 390 px (screenshots)', async (s) => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const [width, height, extra] of [
    [1280, 900, {}],
    [390, 844, { isMobile: true, hasTouch: true, deviceScaleFactor: 1 }],
  ]) {
    const page = await s.newPage({ width, height, ...extra });
    await signIn(page, MANAGER);
    assert.ok((await page.locator(ROWS).count()) > 0, 'no rows to show');
    const file = path.join(ARTIFACTS, `activity-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = pngSize(file);
    assert.ok(png.bytes > 10_000, `${file} is only ${png.bytes} bytes`);
    assert.ok(png.height >= height, `${file} is only ${png.height} px high`);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= width + 2, `at ${width} px the page scrolls sideways: scrollWidth ${scrollWidth}`);
  }
});

browserTest(test, '8. sign out ends the session; a wrong password does not sign in', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  const cookies = await page.context().cookies();
  assert.ok(cookies.length > 0, 'no session cookie after signing in');
  await navigation(page, () => page.locator('#sign-out').click());
  await page.goto(`${BASE}/console/activity`);
  assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'after signing out, /console/activity did not go to sign-in');

  // The old cookie is dead on the server, not just deleted in the browser.
  const replay = await s.newPage();
  await replay.context().addCookies(cookies);
  await replay.goto(`${BASE}/console/activity`);
  assert.equal(new URL(replay.url()).pathname, '/console/sign-in', 'the signed-out session cookie still works');

  // A wrong password leaves you signed out, with a message.
  const wrong = await s.newPage();
  await wrong.goto(`${BASE}/console/sign-in?tenant=${TENANT}`);
  await wrong.locator('input[name=tenant]').fill(TENANT);
  await wrong.locator('input[name=email]').fill(MANAGER.email);
  await wrong.locator('input[name=password]').fill('not-the-password-at-all');
  await navigation(wrong, () => wrong.locator('form:has(input[name=password]) [type=submit]').first().click());
  assert.notEqual(new URL(wrong.url()).pathname, '/console/activity', 'a wrong password signed in');
  assert.ok(await wrong.locator('input[name=password]').count(), 'after a wrong password the sign-in form is gone');
  await wrong.goto(`${BASE}/console/activity`);
  assert.equal(new URL(wrong.url()).pathname, '/console/sign-in', 'a wrong password left a session');
});

browserTest(test, '9. Users lists the people the API knows, and Logs opens exactly their events', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  await navigation(page, () => page.locator('header nav a', { hasText: 'Users' }).click());
  assert.equal(await heading(page), 'Users');
  const keys = await page.locator('table.users tr[data-actor]').evaluateAll((trs) => trs.map((tr) => tr.dataset.actor));
  assert.ok(keys.includes(MEMBER.actorId), `Users lists ${MEMBER.actorId}: ${keys.slice(0, 10)}`);
  // The row's event count is the API's count of that person's events over all time.
  const row = page.locator(`table.users tr[data-actor="${MEMBER.actorId}"]`);
  const shownCount = Number((await row.locator('td.num').innerText()).replace(/[^0-9]/g, ''));
  const events = await apiEvents({ range: 'all', actor: MEMBER.actorId }, { maxPages: 100 });
  // The rollup counts the person's events by their id, and those naming only a linked e-mail;
  // the actor filter selects exactly those (an event with another id is that id's, even when it
  // carries the person's e-mail, as Trail's own events by their member id do).
  const foreign = events.filter((e) => e.actor?.id && e.actor.id !== MEMBER.actorId);
  assert.deepEqual(foreign.map((e) => e.seq), [], `actor=${MEMBER.actorId} found events of another id`);
  assert.equal(shownCount, events.length, `event count of ${MEMBER.actorId}`);
  await navigation(page, () => row.locator('a.logs').click());
  const url = new URL(page.url());
  assert.equal(url.pathname, '/console/activity');
  assert.equal(url.searchParams.get('actor'), MEMBER.actorId);
  const shown = await rowSeqs(page);
  // The console hides Trail's own events (a viewer token naming this person writes some).
  const product = events.filter((e) => e.category !== 'trail');
  assert.deepEqual(shown, seqsOf(product).slice(0, PAGE_SIZE), 'Logs shows that person\'s newest events');
});

browserTest(test, '10. Integrity shows the signed checkpoint and Verify now verifies the whole log', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  await navigation(page, () => page.locator('header nav a', { hasText: 'Integrity' }).click());
  assert.equal(await heading(page), 'Integrity');
  const checkpoint = await apiGet(`/v1/tenants/${TENANT}/tree/checkpoint`);
  const text = await page.locator('main').innerText();
  assert.ok(text.includes(checkpoint.root_hash) || Number(checkpoint.tree_size) > 0, 'the checkpoint is shown');
  assert.ok(text.includes(`trail/`), 'the signed note is shown');
  await navigation(page, () => page.locator('#verify-now').click());
  const verdict = page.locator('section.verdict');
  assert.equal(await verdict.getAttribute('data-ok'), 'true', await verdict.innerText());
  const tenant = await apiGet(`/v1/tenants/${TENANT}`);
  const verifiedText = await verdict.innerText();
  const n = Number(verifiedText.match(/All ([0-9]+) events verified/)?.[1]);
  assert.ok(n > 0 && n <= Number(tenant.event_count), `verified ${n} of ${tenant.event_count}: ${verifiedText}`);
  const logged = await apiEvents({ range: 'all', action: 'trail.integrity.verified' });
  assert.ok(logged.length >= 1, 'Verify now is itself logged');
});

browserTest(test, '11. an admin adds a member in Settings, who can then sign in; a manager has no Settings', async (s) => {
  const manager = await s.newPage();
  await signIn(manager, MANAGER);
  assert.equal(await manager.locator('header nav a', { hasText: 'Settings' }).count(), 0, 'no Settings link for a manager');
  const denied = await manager.goto(`${BASE}/console/settings`);
  assert.equal(denied.status(), 404);

  const page = await s.newPage();
  await signIn(page, ADMIN);
  await navigation(page, () => page.locator('header nav a', { hasText: 'Settings' }).click());
  assert.equal(await heading(page), 'Settings');
  const email = `e2e-${Date.now()}@acme-legal.example`;
  const form = page.locator('form[action="/console/settings/members"]');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=name]').fill('Erin Example');
  await form.locator('select[name=role]').selectOption('manager');
  await form.locator('input[name=password]').fill('a long e2e password');
  await navigation(page, () => form.locator('button[type=submit]').click());
  assert.equal(await page.locator('section.verdict').getAttribute('data-ok'), 'true', await page.locator('main').innerText());
  const members = await apiGet(`/v1/tenants/${TENANT}/members`);
  assert.ok(members.members.some((m) => m.email === email && m.role === 'manager'), 'the API lists the new member');

  const erin = await s.newPage();
  await signIn(erin, { email, password: 'a long e2e password' });
  assert.equal(await heading(erin), 'Activity');
});

browserTest(test, '12. Logins shows the API\'s login report, and Logs opens that person\'s login events', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  await navigation(page, () => page.locator('header nav a', { hasText: 'Logins' }).click());
  assert.equal(await heading(page), 'Logins');
  const report = await apiGet(`/v1/tenants/${TENANT}/reports/logins?range=last_30_days&limit=100`);
  assert.ok(report.rows.length > 0, 'the demo has logins in the last 30 days');
  const shown = await page.locator('table.logins tbody tr td.user').evaluateAll((tds) =>
    tds.map((td) => td.childNodes[0].textContent.trim()),
  );
  assert.deepEqual(shown, report.rows.map((r) => r.name || r.actor_id || r.email), 'rows in the API\'s order');
  const failedShown = await page.locator('table.logins tbody tr td.num').evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
  assert.deepEqual(failedShown, report.rows.map((r) => r.failed_count), 'failed counts');
  await navigation(page, () => page.locator('table.logins tbody tr').first().locator('a.logs').click());
  const url = new URL(page.url());
  assert.equal(url.pathname, '/console/activity');
  const params = apiParamsFor(page.url());
  const events = await apiEvents(params);
  assert.ok(events.length > 0 && events.every((e) => e.action.startsWith('auth.login.')), 'that person\'s login events');
  assert.deepEqual(await rowSeqs(page), seqsOf(events).slice(0, PAGE_SIZE));
});

/** The `data-key` of each row of a report page's table. */
async function reportKeys(page) {
  return page.locator('table.report tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
}

browserTest(test, '15. Files, Links and each catalogue log tab show the API\'s rows; a link opens its access log', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  const tabs = await page.locator('header nav a').allInnerTexts();
  for (const tab of ['Logins', 'Panel', 'API', 'Messages', 'SMS', 'Links', 'Files', 'Documents']) {
    assert.ok(tabs.includes(tab), `the demo tenant has ${tab} events, so its tab shows (tabs: ${tabs.join(', ')})`);
  }

  await navigation(page, () => page.locator('header nav a', { hasText: 'Files' }).click());
  assert.equal(await heading(page), 'Files');
  const usage = await apiGet(`/v1/tenants/${TENANT}/reports/usage?range=last_30_days&limit=100`);
  assert.ok(usage.rows.length > 0, 'the demo has file activity');
  assert.deepEqual(await reportKeys(page), usage.rows.map((r) => r.actor_id || r.email), 'Files: the usage report\'s rows');

  for (const [tab, view] of [['Panel', 'panel'], ['API', 'api'], ['Messages', 'messages'], ['SMS', 'sms'], ['Documents', 'documents']]) {
    await navigation(page, () => page.locator('header nav a', { hasText: tab, exact: true }).click());
    const api = await apiGet(`/v1/tenants/${TENANT}/views/${view}?range=last_30_days&limit=100`);
    assert.ok(api.rows.length > 0, `the demo has ${view} events`);
    assert.deepEqual(await reportKeys(page), api.rows.map((r) => String(r.seq)), `${tab}: the view's events in order`);
    const headers = await page.locator('table.report thead th').allInnerTexts();
    assert.deepEqual(headers.slice(0, api.columns.length), api.columns.map((c) => c.title), `${tab}: the view's columns`);
  }
  // The manager sees SMS phones masked, as the API shows a manager.
  await navigation(page, () => page.locator('header nav a', { hasText: 'SMS', exact: true }).click());
  const phones = await page.locator('table.report tbody td[data-label="Phone"]').allInnerTexts();
  assert.ok(phones.length > 0 && phones.every((p) => p.includes('*') && p.replace(/\D/g, '').length <= 4), `masked phones: ${phones.slice(0, 3)}`);

  await navigation(page, () => page.locator('header nav a', { hasText: 'Links' }).click());
  const links = await apiGet(`/v1/tenants/${TENANT}/links?range=last_30_days&limit=100`);
  assert.ok(links.rows.length > 0, 'the demo has links');
  assert.deepEqual(await reportKeys(page), links.rows.map((r) => r.link_id), 'Links: the link list');
  const busiest = links.rows.findIndex((r) => r.views + r.saves > 0);
  assert.ok(busiest >= 0, 'some demo link was opened');
  await navigation(page, () => page.locator('table.report tbody tr').nth(busiest).locator('a.logs').click());
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  assert.equal(id, links.rows[busiest].link_id);
  const log = await apiGet(`/v1/tenants/${TENANT}/links/${encodeURIComponent(id)}/access-log?range=all&limit=100`);
  const events = await page.locator('table.report tbody td[data-label="event"]').allInnerTexts();
  assert.deepEqual(events, log.rows.map((r) => r.event), 'the access log\'s rows');
  const sessions = await page.locator('table.report tbody td[data-label="linkSessionId"]').allInnerTexts();
  assert.deepEqual(sessions, log.rows.map((r) => r.linkSessionId || ''), 'keyed session ids, as the API shows them');

  // The widest table fits a phone without scrolling sideways.
  const phone = await s.newPage({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
  await signIn(phone, MANAGER);
  await phone.goto(`${BASE}/console/logs/sms`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await phone.screenshot({ path: path.join(ARTIFACTS, 'sms-390.png'), fullPage: true });
  const scrollWidth = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 392, `at 390 px the SMS log scrolls sideways: scrollWidth ${scrollWidth}`);
});

browserTest(test, '16. a user\'s Statistics and a message\'s entry show what the API answers', async (s) => {
  const page = await s.newPage();
  await signIn(page, MANAGER);
  await navigation(page, () => page.locator('header nav a', { hasText: 'Users' }).click());
  const first = page.locator('table.users tbody tr').first();
  const actor = await first.getAttribute('data-actor');
  await navigation(page, () => first.locator('a.stats').click());
  const range = new URL(page.url()).searchParams.get('range');
  const stats = await apiGet(`/v1/tenants/${TENANT}/reports/users/${encodeURIComponent(actor)}/stats?range=${range}`);
  assert.ok(stats.event_count > 0, 'the most recent user has events');
  assert.deepEqual(await reportKeysOf(page, '#by-action'), stats.by_action.map((a) => a.action), 'counts by action');
  const counts = await page.locator('#by-action tbody td.num').allInnerTexts();
  assert.deepEqual(counts.map(Number), stats.by_action.map((a) => a.count));
  const days = await page.locator('#by-day tbody td.num').allInnerTexts();
  assert.equal(days.map(Number).reduce((x, y) => x + y, 0), stats.event_count, 'per-day counts add up');

  await navigation(page, () => page.locator('header nav a', { hasText: 'Messages', exact: true }).click());
  const link = page.locator('table.report tbody tr a', { hasText: 'Message' }).first();
  await navigation(page, () => link.click());
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  const entry = await apiGet(`/v1/tenants/${TENANT}/messages/${encodeURIComponent(id)}`);
  assert.equal(await page.locator('#opens').innerText(), String(entry.opens));
  assert.equal(await page.locator('#status').innerText(), entry.status || '');
  assert.deepEqual(await reportKeysOf(page, '#interactions'), entry.interactions.map((i) => String(i.seq)), 'every interaction, oldest first');
});

/** The `data-key` of each row of the table `selector`. */
async function reportKeysOf(page, selector) {
  return page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
}
