// actions.js - what a person can do to a job, each asked through an
// accessible <dialog> where it needs an answer: run now (with arguments),
// kill its runs, mark it successful, disable or enable it, delete it (the
// dialog names the jobs that depend on it, which block the delete).
import { h } from '../dom.js';
import { call, get, enc, jobPath, saveJob } from '../api.js';

// A modal dialog; resolves with the value of the button pressed (or '' on Esc).
export function ask(title, body, buttons) {
  return new Promise((resolve) => {
    const d = h('dialog', { 'aria-labelledby': 'dlg-title', class: 'dialog' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title), body,
        h('div', { class: 'buttons' }, buttons.map(([value, text, cls]) =>
          h('button', { value, class: cls || '', type: 'submit' }, text)))));
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue); });
    document.body.append(d);
    d.showModal();
  });
}

export async function children(name) {
  const r = await get(`/v1/dashboard/jobs?parent=${enc(name)}&limit=1000`);
  return r.jobs.map((j) => j.name);
}

export async function runNow(name) {
  const input = h('input', { id: 'run-args', type: 'text', autocomplete: 'off' });
  const body = h('div', {},
    h('p', {}, `Run ${name} now.`),
    h('label', { for: 'run-args' }, 'Arguments (separated by spaces; quote one that has spaces: "two words")'), input);
  if (await ask('Run now', body, [['run', 'Run', 'primary'], ['', 'Cancel']]) !== 'run') return false;
  const args = (input.value.match(/"[^"]*"|\S+/g) || []).map((a) => a.replace(/^"(.*)"$/, '$1'));
  const qs = args.map((a) => `arguments=${enc(a)}`).join('&');
  await call('PUT', jobPath(name) + (qs ? `?${qs}` : ''));
  return true;
}

export async function kill(name) {
  const body = h('p', {}, `Kill every active run of ${name}?`);
  if (await ask('Kill runs', body, [['kill', 'Kill', 'danger'], ['', 'Cancel']]) !== 'kill') return false;
  await call('DELETE', `/v1/scheduler/task/kill/${enc(name)}`);
  return true;
}

export async function killRun(id) {
  const body = h('p', {}, `Kill run ${id}? The job's other runs go on.`);
  if (await ask('Kill run', body, [['kill', 'Kill', 'danger'], ['', 'Cancel']]) !== 'kill') return false;
  await call('DELETE', `/v1/runs/${enc(id)}`);
  return true;
}

export async function markSuccess(name) {
  await call('PUT', `/v1/scheduler/job/success/${enc(name)}`);
}

// Disable / enable: the job's own JSON, posted back with `disabled` flipped.
export async function setDisabled(name, disabled) {
  const job = await get(jobPath(name));
  job.disabled = disabled;
  await saveJob(job);
}

export async function remove(name) {
  const kids = await children(name);
  if (kids.length > 0) {
    await ask(`Cannot delete ${name}`, h('div', {},
      h('p', {}, `These jobs depend on ${name}; delete them or change their parents first:`),
      h('ul', { class: 'dependents' }, kids.map((k) => h('li', {}, h('a', { href: `/jobs/${enc(k)}` }, k))))),
    [['', 'Close']]);
    return false;
  }
  const body = h('p', {}, `Delete ${name}? Its active runs are killed. This cannot be undone.`);
  if (await ask(`Delete ${name}`, body, [['delete', 'Delete', 'danger'], ['', 'Cancel']]) !== 'delete') return false;
  await call('DELETE', jobPath(name));
  return true;
}
