// api.js - calls to chronos's REST API, same-origin only.  The browser adds
// the Basic credentials it asked for at the page's 401 (its own prompt) and
// an Origin naming this page, which the server's checks require of every
// change; bodies go as application/json, as they also require.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
    // Our 400s say "field: message" (environmentVariables[2].name: ...).
    const m = /^([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z0-9_]+(?:\[\d+\])*)*): /.exec(message);
    this.field = m ? m[1] : null;
  }
}

export async function call(method, path, body, { text = false } = {}) {
  const headers = { Accept: text ? 'text/plain' : 'application/json' };
  const opt = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opt.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, opt);
  const raw = await res.text();
  if (!res.ok) {
    let msg = raw || `${res.status} ${res.statusText}`;
    try { msg = JSON.parse(raw).message || msg; } catch { /* not JSON */ }
    throw new ApiError(res.status, msg);
  }
  if (text || res.status === 204 || raw === '') return raw;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? JSON.parse(raw) : raw;
}

export const get = (p, o) => call('GET', p, undefined, o);
export const enc = encodeURIComponent;
export const jobPath = (name) => `/v1/scheduler/job/${enc(name)}`;

// Saves a job (its JSON text or object): a dependent job to /dependency.
export function saveJob(job) {
  const obj = typeof job === 'string' ? JSON.parse(job) : job;
  const dep = Array.isArray(obj.parents) && obj.parents.length > 0;
  return call('POST', dep ? '/v1/scheduler/dependency' : '/v1/scheduler/iso8601', job);
}
