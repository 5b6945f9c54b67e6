// edit.js - create or edit a job: a form for every field of Chronos's job
// JSON, and the JSON itself.  Editing round-trips: the job is posted back
// as it was read, with only the fields a person changed replaced, so a
// field the form does not know, or one nobody touched, comes back byte for
// byte.  The server validates; its 400 ("field: message") is shown next
// to the field it names.  The schedule's next instants show as one types.
import { h, clear, debounce } from '../dom.js';
import { call, get, enc, jobPath, saveJob } from '../api.js';
import { nextTable } from './job.js';

const TEXT = [
  ['name', 'Name', 'Letters, digits, _ . and - (1 to 200).'],
  ['command', 'Command', 'Run by /bin/sh -c when Shell is on; else the program.'],
  ['schedule', 'Schedule', 'ISO 8601 (R/2030-01-01T00:00:00Z/PT1H) or cron (0 9 * * MON-FRI). Leave empty with parents.'],
  ['scheduleTimeZone', 'Time zone', 'An IANA zone such as Europe/Paris; empty: UTC.'],
  ['parents', 'Parents', 'Job names separated by commas: it runs after all of them succeed.'],
  ['owner', 'Owner', 'An e-mail address.'],
  ['ownerName', 'Owner name', ''],
  ['description', 'Description', ''],
  ['runAsUser', 'Run as user', "Empty: the server's --user."],
  ['executor', 'Executor', 'Mesos custom executor (stored only).'],
  ['executorFlags', 'Executor flags', ''],
  ['taskInfoData', 'Task info data', ''],
];
const NUMS = [
  ['cpus', 'CPUs'], ['mem', 'Memory (MB)'], ['disk', 'Disk (MB)'], ['retries', 'Retries'],
  ['retryDelaySeconds', 'Retry delay (s)'], ['maxCompletionTime', 'Max completion time (s)'],
  ['startingDeadlineSeconds', 'Starting deadline (s)'],
];
const BOOLS = [
  ['shell', 'Shell', true], ['disabled', 'Disabled', false], ['concurrent', 'Concurrent', false],
  ['softError', 'Soft error', false], ['highPriority', 'High priority', false],
  ['retryBackoff', 'Retry backoff', false], ['dataProcessingJobType', 'Data processing job type', false],
];
const OPS = ['EQUALS', 'LIKE', 'UNLIKE'];

// The text a field's control shows for a value of the job.
function shown(key, v) {
  if (v == null) return '';
  if (key === 'parents') return v.join(', ');
  return String(v);
}

export function editPage(main, { params, go, announce }) {
  const editing = params.length > 0 ? params[0] : null;
  document.title = `${editing ? `Edit ${editing}` : 'New job'} - chronos`;
  let orig = {};            // the job as read (or {} for a new one)
  const controls = new Map(); // field -> { get(), init, el, err }
  let stopped = false;
  const formErr = h('div', { class: 'error', role: 'alert', tabindex: '-1', hidden: true });
  const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
  const form = h('form', { class: 'edit', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(); } });
  const raw = h('textarea', { id: 'raw-json', class: 'raw', rows: 24, spellcheck: 'false' });
  const rawForm = h('form', { class: 'edit', hidden: true, onsubmit: (e) => { e.preventDefault(); saveRaw(); } },
    h('label', { for: 'raw-json' }, 'The job as JSON (posted as it is)'), raw,
    h('div', { class: 'buttons' }, h('button', { class: 'primary', type: 'submit' }, 'Save JSON')));
  const tabForm = h('button', { type: 'button', role: 'tab', 'aria-selected': 'true', id: 'tab-form', onclick: () => show(false) }, 'Form');
  const tabRaw = h('button', { type: 'button', role: 'tab', 'aria-selected': 'false', id: 'tab-raw', onclick: () => show(true) }, 'JSON');
  main.append(h('h1', {}, editing ? `Edit ${editing}` : 'New job'),
    h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Edit as' }, tabForm, tabRaw), formErr, form, rawForm);

  function show(asRaw) {
    if (asRaw) raw.value = JSON.stringify(build(), null, 2);
    else if (!rawForm.hidden) { try { fill(JSON.parse(raw.value), false); } catch (e) { return fault(`JSON: ${e.message}`); } }
    form.hidden = asRaw; rawForm.hidden = !asRaw;
    tabForm.setAttribute('aria-selected', String(!asRaw)); tabRaw.setAttribute('aria-selected', String(asRaw));
  }

  function fieldBox(key, label, control, hint) {
    const err = h('p', { class: 'field-error', id: `err-${key}`, hidden: true });
    const hintEl = hint ? h('p', { class: 'hint', id: `hint-${key}` }, hint) : null;
    control.setAttribute('aria-describedby', [hintEl ? `hint-${key}` : '', `err-${key}`].filter(Boolean).join(' '));
    return { box: h('div', { class: 'field', 'data-field': key }, h('label', { for: `f-${key}` }, label), control, hintEl, err), err };
  }

  // A list editor: rows of inputs, add and remove buttons.
  function rowsEditor(key, label, items, cols, empty) {
    const list = h('div', { class: 'rows' });
    const addRow = (vals) => {
      const inputs = cols.map(([ph, opts], i) => opts
        ? h('select', { 'aria-label': `${label}: ${ph}` }, opts.map((o) => h('option', { value: o, selected: vals[i] === o }, o)))
        : h('input', { type: 'text', value: vals[i] ?? '', 'aria-label': `${label}: ${ph}`, placeholder: ph }));
      const r = h('div', { class: 'row' }, inputs,
        h('button', { type: 'button', class: 'small', 'aria-label': `Remove this ${label.toLowerCase()} row`, onclick: () => r.remove() }, '×'));
      r.inputs = inputs;
      list.append(r);
    };
    items.forEach(addRow);
    const ctl = h('div', { id: `f-${key}`, role: 'group', 'aria-label': label, tabindex: '-1' }, list,
      h('button', { type: 'button', class: 'small', onclick: () => addRow(empty) }, `Add ${label.toLowerCase()}`));
    const values = () => [...list.children].map((r) => r.inputs.map((i) => i.value));
    return { ctl, values };
  }

  function fill(job, isOrig) {
    if (isOrig) orig = job;
    controls.clear();
    clear(form);
    const basics = h('fieldset', {}, h('legend', {}, 'What and when'));
    for (const [key, label, hint] of TEXT) {
      const big = key === 'command' || key === 'description';
      const el = big ? h('textarea', { id: `f-${key}`, rows: key === 'command' ? 3 : 2, spellcheck: 'false' })
        : h('input', { id: `f-${key}`, type: 'text', autocomplete: 'off', spellcheck: 'false' });
      el.value = shown(key, job[key]);
      if (key === 'schedule' || key === 'scheduleTimeZone') el.addEventListener('input', previewSoon);
      const { box, err } = fieldBox(key, label, el, hint);
      controls.set(key, { get: () => el.value, init: el.value, el, err });
      basics.append(box);
      if (key === 'scheduleTimeZone') basics.append(preview);
    }
    const res = h('fieldset', { class: 'grid' }, h('legend', {}, 'Resources and retries'));
    for (const [key, label] of NUMS) {
      const el = h('input', { id: `f-${key}`, type: 'text', inputmode: 'decimal', autocomplete: 'off' });
      el.value = shown(key, job[key]);
      const { box, err } = fieldBox(key, label, el, '');
      controls.set(key, { get: () => el.value, init: el.value, el, err });
      res.append(box);
    }
    const flags = h('fieldset', { class: 'grid' }, h('legend', {}, 'Flags'));
    for (const [key, label, def] of BOOLS) {
      const el = h('input', { id: `f-${key}`, type: 'checkbox' });
      el.checked = job[key] == null ? def : job[key] === true || job[key] === 'true';
      const err = h('p', { class: 'field-error', id: `err-${key}`, hidden: true });
      el.setAttribute('aria-describedby', `err-${key}`);
      controls.set(key, { get: () => String(el.checked), init: String(el.checked), el, err });
      flags.append(h('div', { class: 'field check', 'data-field': key }, el, h('label', { for: `f-${key}` }, label), err));
    }
    const lists = h('fieldset', {}, h('legend', {}, 'Environment, arguments, constraints'));
    const env = rowsEditor('environmentVariables', 'Variable', (job.environmentVariables || []).map((e) => [e.name, e.value]), [['name'], ['value']], ['', '']);
    const args = rowsEditor('arguments', 'Argument', (job.arguments || []).map((a) => [a]), [['argument']], ['']);
    const cons = rowsEditor('constraints', 'Constraint', job.constraints || [], [['attribute'], ['operator', OPS], ['value']], ['', 'EQUALS', '']);
    const listDefs = [
      ['environmentVariables', 'Environment variables', env, (v) => v.map(([name, value]) => ({ name, value }))],
      ['arguments', 'Arguments', args, (v) => v.map(([a]) => a)],
      ['constraints', 'Constraints', cons, (v) => v],
    ];
    for (const [key, label, ed, conv] of listDefs) {
      const { box, err } = fieldBox(key, label, ed.ctl, '');
      const getv = () => JSON.stringify(conv(ed.values()));
      controls.set(key, { get: getv, init: getv(), el: ed.ctl, err, parse: () => conv(ed.values()) });
      lists.append(box);
    }
    const jsons = h('fieldset', {}, h('legend', {}, 'Container and fetch (JSON)'));
    for (const [key, label, hint] of [['container', 'Container', '{"type":"DOCKER","image":"busybox","network":"BRIDGE","volumes":[]} or empty'],
      ['fetch', 'Fetch', '[{"uri":"https://…","executable":false,"cache":false,"extract":true}] or empty']]) {
      const el = h('textarea', { id: `f-${key}`, rows: 3, spellcheck: 'false', class: 'mono' });
      el.value = job[key] == null || (key === 'fetch' && job[key].length === 0) ? '' : JSON.stringify(job[key]);
      const { box, err } = fieldBox(key, label, el, hint);
      controls.set(key, { get: () => el.value, init: el.value, el, err, json: true });
      jsons.append(box);
    }
    form.append(basics, res, flags, lists, jsons,
      h('div', { class: 'buttons' }, h('button', { class: 'primary', type: 'submit' }, editing ? 'Save' : 'Create'),
        h('a', { class: 'button', href: editing ? `/jobs/${enc(editing)}` : '/' }, 'Cancel')));
    if (controls.get('schedule').get()) previewSoon();
  }

  // The job to post: the one read, with each changed field replaced.
  function build() {
    const out = structuredClone(orig);
    for (const [key, c] of controls) {
      const v = c.get();
      if (v === c.init) continue;
      if (c.parse) out[key] = c.parse();
      else if (c.json) {
        if (v.trim() === '') { if (key === 'fetch') { out.fetch = []; delete out.uris; } else delete out[key]; continue; }
        try { out[key] = JSON.parse(v); } catch { out[key] = v; } // the server names what is wrong
        if (key === 'fetch') delete out.uris; // it is filled again from fetch
      } else if (key === 'parents') {
        const p = v.split(',').map((x) => x.trim()).filter(Boolean);
        if (p.length) out.parents = p; else delete out.parents;
      } else if (BOOLS.some(([k]) => k === key)) out[key] = v === 'true';
      else if (NUMS.some(([k]) => k === key)) {
        if (v.trim() === '') delete out[key];
        else out[key] = Number.isFinite(Number(v)) && v.trim() !== '' ? Number(v) : v;
      } else out[key] = v;
    }
    return out;
  }

  function clearErrors() {
    formErr.hidden = true;
    for (const c of controls.values()) { c.err.hidden = true; c.el.removeAttribute('aria-invalid'); }
  }

  function fault(message, field) {
    let key = field;
    while (key && !controls.has(key)) { // environmentVariables[2].name -> environmentVariables
      const up = key.replace(/(\[\d+\]|\.[A-Za-z0-9_]+)$/, '');
      key = up === key ? null : up;
    }
    const c = key && controls.get(key);
    if (c && !form.hidden) {
      c.err.textContent = message;
      c.err.hidden = false;
      c.el.setAttribute('aria-invalid', 'true');
      c.el.focus();
    } else {
      formErr.textContent = message;
      formErr.hidden = false;
      formErr.focus();
    }
  }

  async function post(job) {
    clearErrors();
    try {
      await saveJob(job);
      const name = (typeof job === 'string' ? JSON.parse(job) : job).name;
      announce(`Saved ${name}`);
      go(`/jobs/${enc(name)}`);
    } catch (e) { fault(e.message, e.field); }
  }

  function save() { post(build()); }
  function saveRaw() {
    try { JSON.parse(raw.value); } catch (e) { clearErrors(); return fault(`JSON: ${e.message}`); }
    post(raw.value);
  }

  const previewSoon = debounce(async () => {
    const sched = controls.get('schedule').get().trim();
    const zone = controls.get('scheduleTimeZone').get().trim();
    clear(preview);
    if (!sched || stopped) return;
    try {
      const body = { name: 'preview', command: 'true', schedule: sched };
      if (zone) body.scheduleTimeZone = zone;
      const r = await call('POST', '/v1/scheduler/preview?count=5', body);
      if (stopped) return;
      clear(preview).append(h('p', { class: 'hint' }, 'The next 5 instants:'), nextTable(r.next, zone));
    } catch (e) {
      if (!stopped) clear(preview).append(h('p', { class: 'field-error', 'data-preview': 'error' }, `Preview: ${e.message}`));
    }
  }, 350);

  if (editing) {
    get(jobPath(editing)).then((job) => { if (!stopped) { fill(job, true); raw.value = JSON.stringify(job, null, 2); } })
      .catch((e) => fault(e.message));
  } else {
    fill({}, true);
  }
  return { stop() { stopped = true; } };
}
