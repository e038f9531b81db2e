// The page of `twinsync serve`: a client of the REST routes and the WebSocket, nothing
// more. Doc content only ever reaches the DOM as text or through `md()`, which escapes
// everything before it adds its own tags.

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

// One lock owner per tab, so two tabs of one person are two editors, as they should be.
const me = 'web-' + [...crypto.getRandomValues(new Uint8Array(3))].map((b) => b.toString(16).padStart(2, '0')).join('');
// Off loopback the server wants its token; a link with ?access_token= carries it here.
const token = new URLSearchParams(location.search).get('access_token');

const state = {
  project: null, // id
  pair: null, // the docs pair
  lock: null, // {owner, reason} or null
  doc: null, // {path, digest, version, base, binary}
  saving: null, // the save in flight, so its own doc:updated is not taken for someone else's
  ws: null,
  lastEvent: 0,
  refreshTimer: 0,
};

async function api(method, path, { body, headers = {}, keepalive = false } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = 'Bearer ' + token;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers: h, keepalive, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: { message: text } }; }
  return { status: r.status, ok: r.ok, data };
}

const errorOf = (r) => (r.data && r.data.error && r.data.error.message) || `HTTP ${r.status}`;
const projectUrl = (rest = '') => `/projects/${enc(state.project)}${rest}`;
const docUrl = (path) => projectUrl('/docs/' + path.split('/').map(enc).join('/')) + (state.pair ? `?pair=${enc(state.pair)}` : '');
const docHash = (path) => `#/p/${enc(state.project)}/doc/${enc(path)}`;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

// ---- markdown preview: escape first, then add a few tags around the escaped text ----

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function inline(text) {
  // Code spans first, so nothing inside them is formatted.
  return text.split(/(`[^`]+`)/).map((part, i) => {
    if (i % 2) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
    // Links are set aside while emphasis is added, so it never lands inside an href.
    const links = [];
    // NUL marks a link below; the text's own NULs go.
    return escapeHtml(part.replace(/\u0000/g, ''))
      .replace(/!?\[([^\]]*)\]\(([^)\s]+)\)/g, (_, label, url) => {
        // Only web, mail and relative links: no `javascript:` or `data:`.
        const safe = !/^[a-z][a-z0-9+.-]*:/i.test(url) || /^(https?|mailto):/i.test(url);
        links.push({ label, url: safe ? url : null });
        return `\u0000${links.length - 1}\u0000`;
      })
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^*\w])[*_]([^*_]+)[*_](?=[^*\w]|$)/g, '$1<em>$2</em>')
      .replace(/\u0000(\d+)\u0000/g, (_, i) => {
        const { label, url } = links[i];
        return url ? `<a href="${url}" rel="noopener noreferrer">${label}</a>` : label;
      });
  }).join('');
}

export function md(src) {
  const out = [];
  let para = [], list = null, fence = null;
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join('')}</${list.tag}>`);
    para = []; list = null;
  };
  for (const line of src.replace(/\r\n?/g, '\n').split('\n')) {
    if (fence) {
      if (/^\s*```/.test(line)) { out.push(`<pre><code>${escapeHtml(fence.join('\n'))}</code></pre>`); fence = null; } else fence.push(line);
      continue;
    }
    let m;
    if (/^\s*```/.test(line)) { flush(); fence = []; }
    else if (!line.trim()) flush();
    else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) { flush(); out.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`); }
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); out.push('<hr>'); }
    else if ((m = /^\s*>\s?(.*)$/.exec(line))) { flush(); out.push(`<blockquote>${inline(m[1])}</blockquote>`); }
    else if ((m = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line))) {
      const tag = m[1] ? 'ul' : 'ol';
      if (para.length || (list && list.tag !== tag)) flush();
      list = list || { tag, items: [] };
      list.items.push(m[3]);
    } else if (list && /^\s+\S/.test(line)) list.items[list.items.length - 1] += ' ' + line.trim();
    else { if (list) flush(); para.push(line.trim()); }
  }
  if (fence) out.push(`<pre><code>${escapeHtml(fence.join('\n'))}</code></pre>`);
  flush();
  return out.join('\n');
}

// ---- projects and the docs tree ----

async function loadProjects() {
  const r = await api('GET', '/projects');
  const ul = $('projects');
  ul.replaceChildren(...(r.ok ? r.data.projects : []).map((p) =>
    el('li', {}, el('a', { href: `#/p/${enc(p.id)}`, 'data-project': p.id, class: p.id === state.project ? 'active' : null }, p.name))));
  if (!r.ok) ul.append(el('li', { class: 'muted' }, errorOf(r)));
}

async function loadTree() {
  if (!state.project) return;
  const r = await api('GET', projectUrl('/docs') + (state.pair ? `?pair=${enc(state.pair)}` : ''));
  const tree = $('tree');
  if (!r.ok) { tree.replaceChildren(el('p', { class: 'muted' }, errorOf(r))); return; }
  state.pair = r.data.pair;
  $('pair').textContent = `${r.data.pair} · ${r.data.side}`;
  // Folders from the paths: {dirs: {name: node}, files: [doc]}.
  const root = { dirs: {}, files: [] };
  for (const d of r.data.docs) {
    const parts = d.path.split('/');
    let node = root;
    for (const dir of parts.slice(0, -1)) node = node.dirs[dir] ||= { dirs: {}, files: [] };
    node.files.push({ ...d, name: parts[parts.length - 1] });
  }
  const render = (node) => el('ul', {},
    ...Object.keys(node.dirs).sort().map((name) => el('li', {}, el('details', { open: '' }, el('summary', {}, name + '/'), render(node.dirs[name])))),
    ...node.files.sort((a, b) => a.name.localeCompare(b.name)).map((d) => el('li', {},
      el('a', { href: docHash(d.path), 'data-path': d.path, class: state.doc && state.doc.path === d.path ? 'active' : null, title: d.digest }, d.name),
      ' ', el('small', { class: 'muted' }, `v${d.version}`))));
  tree.replaceChildren(r.data.docs.length ? render(root) : el('p', { class: 'muted' }, 'No docs yet.'));
}

function refreshTreeSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(loadTree, 150);
}

// ---- the lock ----

const holding = () => !!state.lock && state.lock.owner === me;

function renderLock() {
  const banner = $('lockbanner');
  const other = state.lock && state.lock.owner !== me ? state.lock : null;
  banner.hidden = !other;
  if (other) {
    banner.replaceChildren('Locked: ', el('b', { id: 'lock-owner' }, other.owner), ' holds the lock',
      other.reason ? ` (${other.reason})` : '', '. Docs are read-only here until they finish.');
  }
  if (state.doc) {
    const editable = holding() && !state.doc.binary;
    $('text').readOnly = !editable;
    $('save').disabled = !editable;
    $('doc-lock').textContent = holding() ? `you hold the lock as ${me}` : other ? `read-only: ${other.owner} is editing` : 'read-only';
  }
}

async function refreshLock() {
  const r = await api('GET', projectUrl('/lock'));
  if (r.ok) state.lock = r.data.lock;
  renderLock();
}

// Asks only when the lock is free or ours, so a held lock costs no failed request.
async function takeLock() {
  await refreshLock();
  if (!state.doc || (state.lock && !holding())) return;
  const r = await api('POST', projectUrl('/lock'), { body: { owner: me, reason: `editing ${state.doc.path} in the web page`, ttlSeconds: 1800 } });
  if (r.ok) state.lock = r.data.lock; else await refreshLock();
  renderLock();
}

function releaseLock({ keepalive = false } = {}) {
  if (!state.project || !holding()) return Promise.resolve();
  state.lock = null;
  renderLock();
  return api('DELETE', projectUrl(`/lock?owner=${enc(me)}`), { keepalive });
}

// ---- the editor ----

function notice(kind, ...children) {
  const n = $('doc-notice');
  n.className = 'notice ' + (kind || '');
  n.hidden = !children.length;
  n.replaceChildren(...children);
}

const dirty = () => !!state.doc && !state.doc.binary && $('text').value !== state.doc.base;

function showDoc(doc) {
  state.doc = doc;
  $('doc-path').textContent = doc.path;
  $('doc-meta').textContent = `v${doc.version} · ${doc.digest.slice(0, 19)}…`;
  $('text').value = doc.binary ? '(binary content: not editable here)' : doc.base;
  renderPreview();
  renderLock();
}

async function fetchDoc(path) {
  const r = await api('GET', docUrl(path));
  if (!r.ok) return { error: errorOf(r) };
  const binary = r.data.encoding !== 'utf-8';
  return { path, digest: r.data.digest, version: r.data.version, base: binary ? '' : r.data.content, binary };
}

async function openDoc(path) {
  if (state.doc && state.doc.path === path) return;
  show('editor');
  const doc = await fetchDoc(path);
  if (doc.error) { state.doc = null; show('panel', el('p', { class: 'notice bad' }, `${path}: ${doc.error}`)); return; }
  notice(null);
  showDoc(doc);
  markActive();
  await takeLock();
}

async function closeDoc() {
  if (!state.doc) return;
  state.doc = null;
  markActive();
  await releaseLock();
}

async function reloadDoc(message) {
  const doc = await fetchDoc(state.doc.path);
  if (doc.error) { notice('bad', doc.error); return; }
  showDoc(doc);
  notice(message ? 'good' : null, ...(message ? [message] : []));
}

async function save() {
  if (!state.doc || !holding()) return;
  const content = $('text').value;
  const path = state.doc.path;
  let done;
  state.saving = new Promise((resolve) => { done = resolve; });
  try {
    const r = await api('PUT', docUrl(path), { headers: { 'If-Match': `"${state.doc.digest}"` }, body: { content, actor: me } });
    if (r.ok) {
      Object.assign(state.doc, { digest: r.data.digest, version: r.data.version, base: content });
      showDoc(state.doc);
      notice('good', `Saved: version ${r.data.version}.`);
    } else if (r.status === 412) {
      notice('bad', 'This doc was changed by someone else since you loaded it; your edits are not saved. ',
        el('button', { id: 'reload', type: 'button', onclick: () => reloadDoc('Reloaded the latest version.') }, 'Reload'),
        ' (discards your edits)');
    } else notice('bad', `Not saved: ${errorOf(r)}`);
  } finally {
    state.saving = null;
    done();
  }
}

let previewTimer = 0;
function renderPreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    $('preview').innerHTML = state.doc && !state.doc.binary ? md($('text').value) : '';
  }, 60);
}

function markActive() {
  for (const a of document.querySelectorAll('#tree a')) a.classList.toggle('active', !!state.doc && a.dataset.path === state.doc.path);
  for (const a of document.querySelectorAll('#projects a')) a.classList.toggle('active', a.dataset.project === state.project);
}

// ---- live events ----

function connect() {
  const id = state.project;
  const q = new URLSearchParams();
  if (state.lastEvent) q.set('since', state.lastEvent);
  if (token) q.set('access_token', token);
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/projects/${enc(id)}/ws?${q}`);
  state.ws = ws;
  ws.onmessage = (e) => onEvent(JSON.parse(e.data));
  // Reconnects with `since`, so nothing is missed while it was away.
  ws.onclose = () => { if (state.ws === ws) setTimeout(() => state.ws === ws && state.project === id && connect(), 1000); };
  return new Promise((resolve) => { ws.onopen = resolve; ws.onerror = resolve; });
}

async function onEvent(ev) {
  state.lastEvent = Math.max(state.lastEvent, ev.id);
  const p = ev.payload || {};
  if (ev.type === 'lock:acquired') {
    state.lock = { owner: p.owner, reason: p.reason };
    renderLock();
  } else if (ev.type === 'lock:released' || ev.type === 'lock:expired') {
    if (state.lock && state.lock.owner === p.owner) state.lock = null;
    renderLock();
    // Whoever waited on the open doc gets to edit it now.
    if (state.doc && !state.lock) await takeLock();
  } else if (ev.type === 'doc:updated') {
    refreshTreeSoon();
    if (state.saving) await state.saving;
    const doc = state.doc;
    if (!doc || p.docId !== doc.path || (ev.pair && state.pair && ev.pair !== state.pair) || p.hash === doc.digest) return;
    if (!p.hash) { notice('bad', 'This doc was deleted by someone else.'); return; }
    if (dirty()) {
      notice('bad', 'This doc was changed by someone else while you were editing. ',
        el('button', { id: 'reload', type: 'button', onclick: () => reloadDoc('Reloaded the latest version.') }, 'Reload'),
        ' (discards your edits)');
    } else await reloadDoc('Updated live: someone else saved a new version.');
  }
}

// ---- drift and history ----

const when = (t) => (typeof t === 'number' ? new Date(t) : new Date(String(t))).toLocaleString();

async function showDrift() {
  const r = await api('GET', projectUrl('/drift'));
  if (!r.ok) { show('panel', el('p', { class: 'notice bad' }, errorOf(r))); return; }
  show('panel', el('h2', {}, 'Drift'), ...r.data.pairs.map((p) => el('div', {},
    el('h3', {}, `${p.pair} (${p.kind}): ${p.in_sync} in sync, ${p.items.length} drifting, ${p.conflicts} conflicts`),
    p.items.length ? el('table', { id: `drift-${p.pair}` }, el('tr', {}, el('th', {}, 'item'), el('th', {}, 'how'), el('th', {}, 'conflict')),
      ...p.items.map((i) => el('tr', {}, el('td', {}, i.key), el('td', {}, i.class), el('td', {}, i.conflict ? 'yes' : '')))) : el('p', { class: 'muted' }, 'Nothing drifts.'))));
}

// What `twinsync design coverage --html` shows: totals, then each component worst first.
const listOf = (v) => (Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).filter((k) => v[k]) : []);
const variantText = (v) => (v && typeof v === 'object' ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join(', ') : String(v)) || '(its only variant)';

async function showCoverage() {
  const r = await api('GET', projectUrl('/coverage'));
  if (!r.ok) { show('panel', el('h2', {}, 'Coverage'), el('p', { class: 'notice', id: 'coverage-none' }, errorOf(r))); return; }
  const c = r.data, t = c.totals;
  const bar = (pct) => {
    const fill = el('span', { class: pct >= 100 ? 'ok' : pct >= 50 ? 'mid' : 'low' });
    // Through the CSSOM: the page's CSP refuses style attributes.
    fill.style.width = `${Math.max(0, Math.min(100, pct))}%`;
    return el('span', { class: 'bar' }, fill);
  };
  show('panel', el('h2', {}, `Coverage `, el('small', { class: 'muted' }, c.pair)),
    el('p', { id: 'coverage-totals' }, `${t.components} components, ${t.covered_variants} of ${t.total_variants} variants have a story (${t.percent.toFixed(2)}%); ` +
      `${t.fully_covered_components} fully covered; ${t.components_missing_test_kinds} miss a test kind.`),
    el('table', { id: 'coverage' },
      el('tr', {}, ...['component', 'coverage', '', 'variants', 'missing variants', 'missing test kinds'].map((h) => el('th', {}, h))),
      ...c.components.map((k) => {
        const missing = k.missing_variants.map(variantText);
        if (k.missing_variants_total > missing.length) missing.push(`and ${k.missing_variants_total - missing.length} more`);
        return el('tr', { 'data-component': k.component },
          el('td', {}, k.component, ...k.warnings.map((w) => el('div', { class: 'warn' }, typeof w === 'string' ? w : JSON.stringify(w)))),
          el('td', {}, bar(k.percent)), el('td', {}, `${k.percent.toFixed(2)}%`),
          el('td', {}, `${k.covered_variants}/${k.total_variants}`),
          el('td', {}, missing.length ? el('ul', {}, ...missing.map((m) => el('li', {}, m))) : ''),
          el('td', {}, listOf(k.missing_test_kinds).join(', ')));
      })),
    ...c.unmatched_stories.map((u) => el('p', { class: 'warn' }, `Story ${u.story_id} (${u.name}) of ${u.component} matches no variant.`)),
    c.orphan_stories.length ? el('p', { class: 'warn' }, `Stories of no known component: ${c.orphan_stories.join(', ')}.`) : null);
}

async function showHistory(message) {
  const r = await api('GET', projectUrl('/history?limit=50'));
  if (!r.ok) { show('panel', el('p', { class: 'notice bad' }, errorOf(r))); return; }
  const ops = r.data.operations;
  show('panel', el('h2', {}, 'History'), message || null,
    ops.length ? el('table', { id: 'history' },
      el('tr', {}, ...['when', 'pair', 'who', 'status', 'applied', 'operation', ''].map((h) => el('th', {}, h))),
      ...ops.map((o) => el('tr', {},
        el('td', {}, when(o.started_at)), el('td', {}, o.scope), el('td', {}, o.actor), el('td', {}, String(o.status)),
        el('td', {}, String((o.counts && o.counts.applied) || 0)), el('td', {}, el('code', {}, o.operation_id.slice(0, 12))),
        el('td', {}, el('button', { type: 'button', class: 'undo', 'data-op': o.operation_id, onclick: () => undo(o.operation_id) }, 'Undo')))))
      : el('p', { class: 'muted' }, 'No operations yet.'));
}

async function undo(operation) {
  const r = await api('POST', projectUrl('/undo'), { body: { operation, actor: me } });
  const msg = r.ok
    ? el('p', { class: 'notice good', id: 'undo-result' }, `Undid ${operation.slice(0, 12)}: ${r.data.restored.length} restored` +
      (r.data.refused.length ? `, ${r.data.refused.length} refused (${r.data.refused.map((x) => x.key + ': ' + x.reason).join('; ')})` : '') + '.')
    : el('p', { class: 'notice bad', id: 'undo-result' }, `Not undone: ${errorOf(r)}`);
  await showHistory(msg);
  refreshTreeSoon();
}

// ---- views and routing ----

function show(which, ...children) {
  $('welcome').hidden = which !== 'welcome';
  $('editor').hidden = which !== 'editor';
  $('panel').hidden = which !== 'panel';
  if (which === 'panel') $('panel').replaceChildren(...children.filter((c) => c));
}

async function enterProject(id) {
  if (state.project === id) return;
  await leaveProject();
  state.project = id;
  const ws = connect();
  $('project-nav').hidden = false;
  $('to-drift').href = `#/p/${enc(id)}/drift`;
  $('to-history').href = `#/p/${enc(id)}/history`;
  $('to-coverage').href = `#/p/${enc(id)}/coverage`;
  const r = await api('GET', projectUrl());
  $('crumb').textContent = r.ok ? `/ ${r.data.name}` : '';
  markActive();
  // After the socket listens, so no lock or doc change falls between the two.
  await ws;
  await Promise.all([refreshLock(), loadTree()]);
}

async function leaveProject() {
  await closeDoc();
  const ws = state.ws;
  Object.assign(state, { project: null, pair: null, lock: null, ws: null, lastEvent: 0 });
  if (ws) ws.close();
  $('project-nav').hidden = true;
  $('crumb').textContent = '';
  renderLock();
}

async function route() {
  const m = /^#\/p\/([^/]+)(?:\/(doc|drift|history|coverage)(?:\/(.+))?)?$/.exec(location.hash);
  const target = m && m[2] === 'doc' && m[3] ? decodeURIComponent(m[3]) : null;
  if (state.doc && state.doc.path !== target && dirty() && !confirm('Leave this doc? Your edits are not saved.')) {
    history.replaceState(null, '', docHash(state.doc.path));
    return;
  }
  if (!m) { await leaveProject(); show('welcome'); markActive(); return; }
  await enterProject(decodeURIComponent(m[1]));
  if (target) { await openDoc(target); return; }
  await closeDoc();
  if (m[2] === 'drift') await showDrift();
  else if (m[2] === 'history') await showHistory();
  else if (m[2] === 'coverage') await showCoverage();
  else show('panel', el('p', { class: 'muted' }, 'Pick a doc to edit it.'));
}

let routing = Promise.resolve();
const reroute = () => { routing = routing.then(route, route); return routing; };

$('me').textContent = me;
$('text').addEventListener('input', renderPreview);
$('save').addEventListener('click', save);
$('close').addEventListener('click', () => { location.hash = `#/p/${enc(state.project)}`; });
document.addEventListener('keydown', (e) => { if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); save(); } });
// Leaving the page releases the lock; keepalive lets the request outlive the page.
addEventListener('pagehide', () => { releaseLock({ keepalive: true }); });
addEventListener('hashchange', reroute);
// The lock lapses after 30 minutes; an open editor renews it.
setInterval(() => { if (state.doc && holding()) takeLock(); }, 10 * 60 * 1000);
loadProjects();
reroute();
