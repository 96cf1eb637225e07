// Drives Debian's headless Chromium (playwright-core, executablePath /usr/bin/chromium) through
// the remediator's web console. Arguments: a JSON object
//   {url, token, incident, call, durations: {prompt, answer}, screenshots: dir}
// Prints one JSON line of results and exits 0 when every check held, 1 otherwise.
const path = require('path');
const {chromium} = require(path.join(process.env.REMEDIATOR_SOURCE_DIR, 'tools', 'node_modules',
                                     'playwright-core'));

const args = JSON.parse(process.argv[2]);
const checks = [];
function check(ok, what) {
  checks.push({ok: !!ok, what});
  if (!ok) console.error('FAIL: ' + what);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({viewport: {width: 1280, height: 900}});
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // A media element aborts its own range requests once it has what it needs (and on leaving the
  // page): ERR_ABORTED is not a failure.
  page.on('requestfailed', (r) => {
    if (r.failure().errorText !== 'net::ERR_ABORTED') {
      errors.push('request failed: ' + r.url() + ' ' + r.failure().errorText);
    }
  });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(args.url)) external.push(r.url()); });

  // Not signed in: the console sends us to the login form.
  await page.goto(args.url + '/');
  check(page.url().endsWith('/login'), 'unauthenticated visit lands on /login: ' + page.url());
  await page.fill('input[name=token]', 'wrong-token');
  await page.click('button[type=submit]');
  check((await page.content()).includes('invalid bearer token'), 'a wrong token is refused');
  await page.fill('input[name=token]', args.token);
  await Promise.all([page.waitForURL(args.url + '/'), page.click('button[type=submit]')]);

  // Incidents, then filtered by class.
  const rows = await page.$$eval('#incidents tbody tr', (trs) => trs.length);
  check(rows >= 5, 'incidents listed: ' + rows);
  await page.selectOption('select[name=class]', 'oom_killed');
  await Promise.all([page.waitForURL(/class=oom_killed/), page.click('form.filters button')]);
  const classes = await page.$$eval('#incidents tbody tr td:nth-child(3)',
                                    (tds) => tds.map((td) => td.textContent));
  check(classes.length >= 1 && classes.every((c) => c === 'oom_killed'),
        'class filter keeps only oom_killed: ' + JSON.stringify(classes));
  await page.screenshot({path: path.join(args.screenshots, 'incidents.png'), fullPage: true});

  // One incident: timeline, evidence, the call with its audio.
  await page.goto(args.url + '/incidents/' + args.incident);
  check(await page.isVisible('#timeline'), 'incident timeline shown');
  const evidence = await page.textContent('#evidence pre');
  check(evidence.trim().length > 0, 'incident evidence shown');
  check((await page.$$('audio')).length === 2, 'the incident page has the call\'s two recordings');
  await page.screenshot({path: path.join(args.screenshots, 'incident.png'), fullPage: true});

  // Calls: transcript, decision, and audio that loads with the WAVs' durations.
  await page.goto(args.url + '/calls');
  const text = await page.textContent('#calls');
  check(text.includes('yes'), 'calls show the decision');
  for (const kind of ['prompt', 'answer']) {
    const selector = `audio[src="/audio/${args.call}/${kind}.wav"]`;
    const duration = await page.$eval(selector, (a) => new Promise((resolve) => {
      if (a.readyState >= 1) return resolve(a.duration);
      a.addEventListener('loadedmetadata', () => resolve(a.duration));
      a.addEventListener('error', () => resolve(-1));
      a.load();
    }));
    const expected = args.durations[kind];
    check(Math.abs(duration - expected) < 0.05,
          `${kind} audio loads with its duration: ${duration} s (WAV header: ${expected} s)`);
  }
  await page.screenshot({path: path.join(args.screenshots, 'calls.png'), fullPage: true});

  // CSV downloads, with the session cookie (the page's CSP allows no fetch: ask the context).
  const csvResponse = await page.context().request.get(args.url + '/incidents.csv');
  const csv = await csvResponse.text();
  check(csvResponse.headers()['content-disposition'].includes('incidents.csv') &&
            csv.startsWith('id,namespace,kind,name,class,state'),
        'incidents.csv downloads');
  const calls = await (await page.context().request.get(args.url + '/calls.csv')).text();
  check(calls.split('\n').length >= 3 && calls.includes(',true'), 'calls.csv has the call');

  check(errors.length === 0, 'no console errors: ' + JSON.stringify(errors));
  check(external.length === 0, 'no external requests: ' + JSON.stringify(external));
  await browser.close();
  console.log(JSON.stringify({checks}));
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
