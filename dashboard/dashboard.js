// The poselift dashboard (served by `poselift serve` at /): the job list, live progress over server-sent
// events, an upload form, failures with their reasons, links to each result and its 3D viewer. Same-origin
// requests only; the session cookie (or no token on a loopback server) authorises them. Text from the server
// is set with textContent, never parsed as HTML.

const FINAL = new Set(['completed', 'failed']);
/** browsers allow 6 connections per host over HTTP/1.1: at most this many event streams at once */
const MAX_STREAMS = 4;
const rows = new Map(); // id -> { tr, job }
const streams = new Map(); // id -> EventSource

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const k of kids) e.append(k);
  return e;
};

async function api(path, init) {
  const r = await fetch(path, { credentials: 'same-origin', ...init });
  if (r.status === 401) { location.reload(); throw new Error('signed out'); }
  const body = r.headers.get('content-type')?.includes('application/json') ? await r.json() : null;
  if (!r.ok) throw new Error(body?.message ?? `${r.status} ${r.statusText}`);
  return body;
}

function setProgress(row, job) {
  const p = job.progress ?? { percent: 0 };
  const pct = job.state === 'completed' ? 100 : Math.max(0, Math.min(100, Number(p.percent) || 0));
  row.bar.className = `bar ${job.state}`;
  row.bar.firstChild.style.width = `${pct}%`;
  row.pct.textContent = `${pct}%${p.total ? ` (${p.frames}/${p.total})` : ''}`;
  row.tr.dataset.percent = String(pct);
}

function render(job) {
  let row = rows.get(job.id);
  if (!row) {
    const bar = el('span', { className: 'bar' }, el('span'));
    const pct = el('span', { className: 'pct' });
    const state = el('span', { className: 'state' });
    const reason = el('div', { className: 'reason' });
    const links = el('td', { className: 'links' });
    const tr = el('tr', {},
      el('td', { textContent: job.id }), el('td', { className: 'input' }), el('td', { className: 'kind' }),
      el('td', {}, state, reason), el('td', { className: 'progress' }, bar, pct), el('td', { className: 'created' }), links);
    tr.dataset.id = job.id;
    row = { tr, bar, pct, state, reason, links, job };
    rows.set(job.id, row);
    const body = $('jobs').tBodies[0];
    // newest first
    const after = [...body.rows].find((r) => Number(r.dataset.id) < Number(job.id));
    body.insertBefore(tr, after ?? null);
    $('no-jobs').hidden = true;
  }
  row.job = { ...row.job, ...job };
  const j = row.job;
  row.tr.dataset.state = j.state;
  row.tr.querySelector('.input').textContent = j.input ?? '';
  row.tr.querySelector('.kind').textContent = j.kind ?? '';
  row.tr.querySelector('.created').textContent = j.created ? new Date(j.created).toLocaleTimeString() : '';
  row.state.textContent = j.state;
  row.state.className = `state ${j.state}`;
  row.reason.textContent = j.state === 'failed' ? (j.failed_reason ?? '') : '';
  setProgress(row, j);
  row.links.replaceChildren();
  if (j.state === 'completed' && j.result) {
    row.links.append(el('a', { href: j.result, textContent: 'JSON', className: 'result-link' }));
    if (j.viewer) {
      row.links.append(el('a', { href: `${j.result}?format=bvh`, textContent: 'BVH' }));
      row.links.append(el('a', { href: `${j.result}?format=csv`, textContent: 'CSV' }));
      row.links.append(el('a', { href: j.viewer, textContent: '3D viewer', className: 'viewer-link' }));
    }
  } else if (!FINAL.has(j.state)) {
    const b = el('button', { className: 'cancel', textContent: 'cancel', type: 'button' });
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { await api(`/v1/jobs/${encodeURIComponent(j.id)}`, { method: 'DELETE' }); } catch (e) { row.reason.textContent = e.message; }
      await refresh();
    });
    row.links.append(b);
  }
  if (FINAL.has(j.state)) closeStream(j.id);
  else watch(j.id);
}

function closeStream(id) {
  streams.get(id)?.close();
  streams.delete(id);
}

function watch(id) {
  if (streams.has(id) || streams.size >= MAX_STREAMS) return;
  const es = new EventSource(`/v1/jobs/${encodeURIComponent(id)}/events`);
  streams.set(id, es);
  const upd = (e) => render(JSON.parse(e.data));
  es.addEventListener('state', upd);
  es.addEventListener('progress', upd);
  es.addEventListener('completed', (e) => { upd(e); closeStream(id); refreshHealth(); });
  es.addEventListener('failed', (e) => { upd(e); closeStream(id); });
  es.addEventListener('removed', () => { closeStream(id); rows.get(id)?.tr.remove(); rows.delete(id); });
  // the server ends the stream after the final event; an error otherwise: polling takes over
  es.onerror = () => closeStream(id);
}

async function refresh() {
  const jobs = await api('/v1/jobs?limit=50');
  const seen = new Set(jobs.map((j) => j.id));
  for (const [id, r] of rows) if (!seen.has(id)) { r.tr.remove(); rows.delete(id); closeStream(id); }
  for (const j of jobs.slice().reverse()) render(j);
  $('no-jobs').hidden = jobs.length > 0;
}

async function refreshHealth() {
  const h = $('health');
  try {
    const r = await fetch('/v1/health', { credentials: 'same-origin' });
    const b = await r.json();
    h.textContent = b.ok ? `Redis up · queue ${b.queue} · ${b.counts.active} active, ${b.counts.waiting} waiting` : 'Redis down';
    h.className = `pill ${b.ok ? 'up' : 'down'}`;
  } catch {
    h.textContent = 'server unreachable';
    h.className = 'pill down';
  }
  try {
    const ws = await api('/v1/workers');
    $('workers').textContent = `${ws.length} worker${ws.length === 1 ? '' : 's'}`;
    $('workers').className = `pill ${ws.length ? 'up' : 'down'}`;
    $('worker-list').replaceChildren(...ws.map((w) => el('li', { textContent: `${w.host} pid ${w.pid} · concurrency ${w.concurrency} · ${w.active.length ? `running ${w.active.join(', ')}` : 'idle'}` })));
  } catch { /* the health pill says why */ }
}

$('upload').addEventListener('submit', async (e) => {
  e.preventDefault();
  const status = $('upload-status');
  const fd = new FormData();
  const options = {};
  if ($('detector').value) options.detector = $('detector').value;
  if ($('fps').value) options.fps = Number($('fps').value);
  if ($('kpformat').value) {
    options.keypoints = { format: $('kpformat').value };
    if ($('layout').value) options.keypoints.layout = $('layout').value;
  }
  fd.append('options', JSON.stringify(options));
  if ($('camera').files[0]) fd.append('camera', $('camera').files[0]);
  fd.append('file', $('file').files[0]);
  status.className = '';
  status.textContent = 'uploading…';
  $('submit').disabled = true;
  try {
    const job = await api('/v1/jobs', { method: 'POST', body: fd });
    status.textContent = `queued as job ${job.id}`;
    render(job);
    $('upload').reset();
  } catch (err) {
    status.className = 'error';
    status.textContent = err.message;
  } finally {
    $('submit').disabled = false;
  }
});

await Promise.all([refresh().catch((e) => { $('upload-status').textContent = e.message; }), refreshHealth()]);
setInterval(() => { refresh().catch(() => {}); refreshHealth(); }, 5000);
window.poseliftDashboard = { ready: true };
