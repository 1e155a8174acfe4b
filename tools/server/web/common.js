// The LeanOS Ledger dashboard, part 1 of 3 (common.js, panes.js, app.js, loaded in that order
// as classic scripts sharing one global scope): the page's state, helpers, the JSON API and the
// time slider. Every pane is a view of the JSON API (/api/v1/...) at the slider's date, on
// the chosen time axis; at "now" the page follows the live event stream.
'use strict';

const DAY = 86400000;
const $ = (selector, root = document) => root.querySelector(selector);
// span: the first and the latest date of each time axis (business time: when things
// occurred; knowledge time: when the ledger recorded them), which the slider covers.
const state = { axis: 'as_of', date: null, deal: null, since: null, span: { as_of: [null, null], known_at: [null, null] } };
const charts = {};
// The page's folder: / serving one workspace, /w/NAME/ serving many; the API sits below it.
const base = new URL('.', location.href);
const tokenKey = 'leanos-token:' + base.pathname;
let token = sessionStorage.getItem(tokenKey) || '';
let lastEventId = null;
let refreshTimer = null;
let renderSeq = 0;

// ---- helpers ------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const day = (iso) => (iso ? iso.slice(0, 10) : '');
const toDays = (iso) => Math.floor(Date.parse(iso) / DAY);
const fromDays = (n) => new Date(n * DAY).toISOString().slice(0, 10);
const dollars = (n) => '$' + Math.round(Number(n)).toLocaleString('en-US');
const amount = (metric, n) => (metric === 'mrr' || metric === 'arr' || metric === 'revenue' ? dollars(n) : String(n));
const pct = (x) => (x === undefined || x === null ? '–' : Math.round(Number(x) * 100) + ' %');
const known = (x) => x !== undefined && x !== null;
const round1 = (x) => String(Math.round(Number(x) * 10) / 10);
const coverage = (some, all) => (some < all ? ` (${some} of ${all})` : '');

async function askToken() {
  const dialog = $('#login');
  // Serving many workspaces, the page is /w/NAME/: say whose token is wanted.
  const workspace = /\/w\/([^/]+)\/$/.exec(base.pathname);
  $('#login-what').textContent = (workspace ? `Workspace '${decodeURIComponent(workspace[1])}' wants its token.` : 'This ledger wants a token.') +
    ' It stays in this tab only.';
  if (!dialog.open) dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  token = $('#token').value.trim();
  sessionStorage.setItem(tokenKey, token);
}

// A view of the API (GET with `params`), or with `post` a JSON body POSTed (what if).
async function api(path, params = {}, post = null) {
  const url = new URL('api/v1/' + path, base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  for (;;) {
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    if (post) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, post ? { method: 'POST', headers, body: JSON.stringify(post) } : { headers });
    if (res.status === 401 || res.status === 403) {  // none, or another workspace's
      await res.body.cancel();
      await askToken();
      continue;
    }
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ? body.error.message : res.statusText);
    return body;
  }
}

const at = () => (state.date ? { [state.axis]: state.date } : {});

function showError(e) {
  const p = $('#error');
  p.textContent = e ? String(e.message || e) : '';
  p.hidden = !e;
}

// ---- time -----------------------------------------------------------------------------------------

function readUrl() {
  const q = new URLSearchParams(location.search);
  state.axis = q.has('known_at') ? 'known_at' : 'as_of';
  state.date = q.get(state.axis) || null;
  state.deal = q.get('deal') || null;
  state.since = q.get('since') || null;
}

function writeUrl() {
  const q = new URLSearchParams();
  if (state.date) q.set(state.axis, state.date);
  if (state.deal) q.set('deal', state.deal);
  if (state.since) q.set('since', state.since);
  const search = q.toString();
  history.replaceState(null, '', search ? '?' + search : location.pathname);
}

function setSlider() {
  const slider = $('#slider');
  const today = Math.floor(Date.now() / DAY);
  const [first, last] = state.span[state.axis];
  slider.min = String(Math.min(first ? toDays(first) : today, today));
  slider.max = String(Math.max(today, last ? toDays(last) : today));
  slider.value = state.date ? String(toDays(state.date + 'T00:00:00Z')) : slider.max;
  $('#axis').value = state.axis;
  $('#date').textContent = state.date || 'now';
  $('#live').classList.toggle('on', !state.date);
}
