// The LeanOS Ledger dashboard: every pane is a view of the JSON API (/api/v1/...) at the
// slider's date, on the chosen time axis; at "now" it follows the live event stream.
'use strict';

const DAY = 86400000;
const $ = (selector, root = document) => root.querySelector(selector);
const state = { axis: 'as_of', date: null, deal: null, first: null, last: null };
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

async function askToken() {
  const dialog = $('#login');
  if (!dialog.open) dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  token = $('#token').value.trim();
  sessionStorage.setItem(tokenKey, token);
}

async function api(path, params = {}) {
  const url = new URL('api/v1/' + path, base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  for (;;) {
    const res = await fetch(url, { headers: token ? { Authorization: 'Bearer ' + token } : {} });
    if (res.status === 401 || res.status === 403) {  // none, or another workspace's
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
}

function writeUrl() {
  const q = new URLSearchParams();
  if (state.date) q.set(state.axis, state.date);
  if (state.deal) q.set('deal', state.deal);
  const search = q.toString();
  history.replaceState(null, '', search ? '?' + search : location.pathname);
}

function setSlider() {
  const slider = $('#slider');
  const today = Math.floor(Date.now() / DAY);
  const first = state.first ? toDays(state.first) : today;
  slider.min = String(Math.min(first, today));
  slider.max = String(Math.max(today, state.last ? toDays(state.last) : today));
  slider.value = state.date ? String(toDays(state.date + 'T00:00:00Z')) : slider.max;
  $('#axis').value = state.axis;
  $('#date').textContent = state.date || 'now';
  $('#live').classList.toggle('on', !state.date);
}

// ---- panes ----------------------------------------------------------------------------------------

function chart(id, config) {
  if (!window.Chart) return;  // Chart.js missing: the tables still tell
  if (charts[id]) charts[id].destroy();
  charts[id] = new window.Chart($('#' + id), config);
}

// A vertical line at the slider's date on a chart whose x axis is in days.
const dateLine = {
  id: 'dateLine',
  afterDatasetsDraw(c) {
    if (!state.date) return;
    const x = c.scales.x.getPixelForValue(toDays(state.date + 'T00:00:00Z'));
    const { top, bottom } = c.chartArea;
    const g = c.ctx;
    g.save();
    g.strokeStyle = '#c4320a';
    g.setLineDash([4, 4]);
    g.beginPath();
    g.moveTo(x, top);
    g.lineTo(x, bottom);
    g.stroke();
    g.restore();
  },
};
const dayAxis = { type: 'linear', ticks: { callback: (v) => fromDays(v), maxTicksLimit: 6 } };

function renderGoals(goals) {
  const body = $('#goals .body');
  body.replaceChildren();
  if (!goals.length) body.append(el('p', { class: 'muted', text: 'no goal defined by then' }));
  for (const g of goals) {
    const t = g.trajectory || {};
    const box = el('div', { class: 'goal', 'data-goal': g.id },
      el('h3', { text: g.title + ' (' + g.id + ')' }),
      el('div', { class: 'bar' }, el('span', { style: null })),
      el('div', { class: 'figures' },
        el('span', {}, 'current ', el('b', { class: 'current', 'data-value': g.current, text: amount(g.metric, g.current) })),
        el('span', {}, 'target ', el('b', { class: 'target', 'data-value': g.target, text: amount(g.metric, g.target) })),
        el('span', {}, 'progress ', el('b', { class: 'progress', 'data-value': g.progress, text: pct(g.progress) })),
        el('span', {}, 'risk ', el('b', { class: 'risk', text: t.risk || '–' })),
        el('span', {}, 'due ', el('b', { text: g.due || '–' })),
        g.met ? el('span', { class: 'ok', text: 'met ' + day(g.met_at) }) : null),
      g.subgoals && g.subgoals.length
        ? el('ul', {}, g.subgoals.map((s) => el('li', { 'data-subgoal': s.id }, `${s.id} ${s.title}: ${amount(s.metric, s.current)} / ${amount(s.metric, s.target)}`, s.done ? el('span', { class: 'ok', text: ' done' }) : null)))
        : null,
      el('div', { class: 'chart' }, el('canvas', { id: 'goal-chart-' + g.id })));
    $('.bar > span', box).style.width = Math.min(100, Math.round((g.progress || 0) * 100)) + '%';
    body.append(box);
    // The trajectory: the straight line from the start to the target at the deadline, and the
    // milestones reached on the way to where it stands.
    const start = g.defined_at ? toDays(g.defined_at) : null;
    const now = toDays(state.date ? state.date + 'T00:00:00Z' : new Date().toISOString());
    const needed = start !== null && g.due ? [{ x: start, y: Number(g.baseline) }, { x: toDays(g.due + 'T00:00:00Z'), y: Number(g.target) }] : [];
    const actual = start !== null ? [{ x: start, y: Number(g.baseline) }] : [];
    for (const m of g.milestones || []) actual.push({ x: toDays(m.reached_at), y: Number(g.baseline) + (Number(g.target) - Number(g.baseline)) * m.percent / 100 });
    actual.push({ x: now, y: Number(g.current) });
    chart('goal-chart-' + g.id, {
      type: 'line',
      data: { datasets: [
        { label: 'needed', data: needed, borderDash: [6, 4], borderColor: '#98a2b3', pointRadius: 0 },
        { label: 'reached', data: actual, borderColor: '#2e5bff', stepped: false },
      ] },
      options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: dayAxis, y: { beginAtZero: true } } },
      plugins: [dateLine],
    });
  }
}

// Each change of an assumption's confidence, from its history (why): a point per change.
function points(history) {
  const out = [];
  for (const c of history.changes || []) {
    if (c.withdrawn) continue;
    const e = c.event;
    let confidence = null;
    if (e.assumption_registered) confidence = e.assumption_registered.confidence;
    else if (e.assumption_revised) confidence = e.assumption_revised.confidence;
    else if (c.holds) confidence = c.holds.confidence;
    if (confidence === null || confidence === undefined) continue;
    out.push({ x: toDays(e.occurred_at), y: confidence, change: c });
  }
  return out.sort((a, b) => a.x - b.x);
}

function showWhy(id, point) {
  const c = point.change;
  const e = c.event;
  const why = $('#why');
  const cause = c.cause;
  const learning = cause && (cause.learning_recorded || cause.campaign_results_recorded);
  const deal = learning && learning.deal_id;
  why.replaceChildren(
    el('b', { text: `${id} ${point.y} % on ${day(e.occurred_at)}` }), ' ',
    el('span', { class: 'muted', text: `${e.type} by ${e.actor}` }),
    learning ? el('p', {}, `${learning.result || ''} `, learning.evidence || learning.summary || '', deal ? el('span', {}, ' — deal ', el('a', { href: '?deal=' + deal, 'data-deal': deal, onclick: (ev) => { ev.preventDefault(); openDeal(deal); }, text: deal })) : null) : null,
    e.assumption_revised ? el('p', { text: e.assumption_revised.evidence || 'revised' }) : null);
  why.hidden = false;
}

async function renderCanvas(canvas, seq) {
  const tbody = $('#canvas tbody');
  tbody.replaceChildren(...canvas.assumptions.map((a) => el('tr', { 'data-assumption': a.id },
    el('td', { text: a.id }), el('td', { text: a.statement }),
    el('td', { class: 'confidence num', 'data-value': a.confidence, text: a.confidence }),
    el('td', { text: a.status }), el('td', { class: 'num', text: a.evidence_count }))));
  const histories = await Promise.all(canvas.assumptions.map((a) => api('why/' + encodeURIComponent(a.id)).catch(() => ({ changes: [] }))));
  if (seq !== renderSeq) return;
  const palette = ['#2e5bff', '#12805c', '#c4320a', '#7a5af8', '#dc6803', '#0e9384', '#667085'];
  const series = canvas.assumptions.map((a, i) => ({ id: a.id, label: a.id, data: points(histories[i]), borderColor: palette[i % palette.length], stepped: 'before', pointRadius: 5, pointHoverRadius: 7 }));
  chart('canvas-chart', {
    type: 'line',
    data: { datasets: series },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: dayAxis, y: { min: 0, max: 100, title: { display: true, text: '%' } } },
      onClick: (ev, elements) => {
        if (!elements.length) return;
        const { datasetIndex, index } = elements[0];
        showWhy(series[datasetIndex].id, series[datasetIndex].data[index]);
      },
    },
    plugins: [dateLine],
  });
}

const STAGES = ['1-input', '2-hypothesis', '3-implication', '4-decision', '5-actions', '6-learning'];

// "> 0.10", ">= 0.50", "< 24": whether the value meets it.
function meets(value, target) {
  const m = /^\s*([<>]=?)\s*([0-9.]+)/.exec(target || '');
  if (!m || value === undefined || value === null) return null;
  const v = Number(value), t = Number(m[2]);
  return { '>': v > t, '>=': v >= t, '<': v < t, '<=': v <= t }[m[1]];
}

function renderFunnel(deals, pipeline, metrics) {
  // A funnel: the deals that reached each stage (a deal in stage 5 passed stages 1 to 4), and
  // the ones standing in it now.
  const reached = STAGES.map((s, i) => deals.deals.filter((d) => STAGES.indexOf(d.stage) >= i).length);
  const standing = STAGES.map((s) => deals.deals.filter((d) => d.stage === s).length);
  $('#funnel-chart').dataset.reached = JSON.stringify(reached);
  chart('funnel-chart', {
    type: 'bar',
    data: { labels: STAGES, datasets: [
      { label: 'reached the stage', data: reached, backgroundColor: '#2e5bff' },
      { label: 'in it now', data: standing, backgroundColor: '#98a2b3' }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const rows = [['demo booking', 'demo_booking_rate'], ['pilot conversion', 'pilot_conversion'], ['close rate', 'close_rate'], ['win rate', 'win_rate'], ['email response', 'email_response_rate']];
  $('#funnel .conversion tbody').replaceChildren(...rows.map(([label, key]) => {
    const target = (metrics.targets || {})[key];
    const ok = meets(metrics[key], target);
    return el('tr', { 'data-metric': key }, el('td', { text: label }), el('td', { class: 'num ' + (ok === null ? '' : ok ? 'ok' : 'miss'), text: pct(metrics[key]) }), el('td', { text: target || '' }));
  }));
  const byAction = {};
  for (const d of pipeline.deals) byAction[d.action || 'no action under way'] = (byAction[d.action || 'no action under way'] || 0) + 1;
  $('#funnel .actions').replaceChildren(...(Object.keys(byAction).length
    ? Object.entries(byAction).sort().map(([a, n]) => el('li', {}, `${a}: ${n}`))
    : [el('li', { class: 'muted', text: 'no open deal' })]));
}

function renderMetrics(m) {
  const rows = [
    ['MRR', dollars(m.mrr || 0)], ['ARR', dollars(m.arr || 0)], ['customers', m.customers], ['deals', m.deals], ['open', m.open], ['won', m.won], ['lost', m.lost],
    ['average deal', m.avg_deal_size ? dollars(m.avg_deal_size) : '–'], ['average cycle', m.avg_cycle_days ? Math.round(m.avg_cycle_days) + ' days' : '–'],
    ['lead response', m.lead_response_hours !== undefined ? m.lead_response_hours + ' h' : '–', 'lead_response_hours'],
    ['qualification', m.qualification_days !== undefined ? m.qualification_days + ' days' : '–', 'qualification_days'],
    ['CAC', m.cac ? dollars(m.cac) : '–'], ['margin', m.avg_margin_pct ? m.avg_margin_pct + ' %' : '–'],
  ];
  $('#metrics tbody').replaceChildren(...rows.map(([label, value, key]) => {
    const target = key ? (m.targets || {})[key] : '';
    const ok = key ? meets(m[key], target) : null;
    return el('tr', { 'data-metric': key || label }, el('td', { text: label }), el('td', { class: 'num ' + (ok === null ? '' : ok ? 'ok' : 'miss'), text: value }), el('td', { class: 'muted', text: target || '' }));
  }));
}

function renderToday(t) {
  const body = $('#today .body');
  const q = t.queue || {};
  const a = t.alerts || {};
  const list = (title, items, fmt) => (items && items.length ? [el('h3', { text: title }), el('ul', {}, items.map((i) => el('li', {}, fmt(i))))] : []);
  const item = (i) => [i.what, ' ', el('span', { class: 'muted', text: 'since ' + day(i.since) })];
  const parts = [
    ...list('approvals waiting', q.approvals, item),
    ...list('human actions', q.human_actions, item),
    ...list('blocked', q.blocked, item),
    ...list('overdue', a.overdue, (i) => [i.what || i.deal_id || JSON.stringify(i)]),
    ...list('stalled', a.stalled, (i) => [i.what || i.deal_id || JSON.stringify(i)]),
    ...list('agent decisions', q.agent_decisions, item),
    ...list('content', q.content, item),
    ...list('recommendations', t.recommendations, (r) => [r.action || r.what || JSON.stringify(r)]),
  ];
  body.replaceChildren(...(parts.length ? parts : [el('p', { class: 'muted', text: 'nothing waits' })]));
}

function renderDeals(deals) {
  $('#deals tbody').replaceChildren(...deals.deals.map((d) => el('tr', { 'data-deal': d.deal_id },
    el('td', {}, el('a', { href: '?deal=' + d.deal_id, onclick: (ev) => { ev.preventDefault(); openDeal(d.deal_id); }, text: d.deal_id })),
    el('td', { text: d.company }), el('td', { text: d.stage }), el('td', { text: d.status }), el('td', { text: d.next_action || '' }))));
}

async function renderDeal() {
  const section = $('#deal');
  if (!state.deal) {
    section.hidden = true;
    return;
  }
  const [d, audit] = await Promise.all([api('deals/' + encodeURIComponent(state.deal), at()), api('audit/' + encodeURIComponent(state.deal))]);
  $('.id', section).textContent = d.deal_id;
  const stage = (n, title, when, ...lines) => el('div', { class: 'stage' + (when ? '' : ' missing'), 'data-stage': n },
    el('b', { text: `${n} ${title}` }), ' ', el('span', { class: 'muted', text: when ? day(when) : 'not yet' }), ...lines.filter(Boolean).map((l) => el('div', { text: l })));
  const i = d.input || {}, h = d.hypothesis, m = d.implication, c = d.decision, o = d.outcome;
  section.querySelector('.body').replaceChildren(
    el('div', { class: 'stages' },
      stage(1, 'input', d.input_at, `${i.company} (${i.segment}), ${i.source || ''}`, i.signal),
      stage(2, 'hypothesis', d.hypothesis_at, h && `tests ${h.assumption_id} at ${h.confidence} %`),
      stage(3, 'implication', d.implication_at, m && `ARR ${dollars(m.arr_low)}–${dollars(m.arr_high)}, ${m.strategic}, priority ${m.priority}`),
      stage(4, 'decision', d.decision_at, c && `${c.verdict}: ${c.reason}`, c && `impact ${c.impact}`),
      stage(5, 'actions', (d.actions || []).length ? (d.actions[0].started_at || d.actions[0].planned_at) : null, ...(d.actions || []).map((a) => `${a.action} ${a.status}${a.result ? ' → ' + a.result : ''}`)),
      stage(6, 'learning', d.learning_at || d.outcome_at, o && `${o.outcome}${o.arr ? ' ' + dollars(o.arr) + ' ARR' : ''}`, ...(d.learnings || []).map((l) => `${l.assumption_id} ${l.result}${l.confidence !== undefined ? ' → ' + l.confidence + ' %' : ''}`))),
    el('h3', { text: 'audit' }),
    el('ul', {}, (audit.decisions || []).map((x) => el('li', {}, `${day(x.event.occurred_at)} ${x.event.decision_made.verdict} by ${x.event.actor}: ${x.event.decision_made.reason}`,
      x.approval ? ` (approved by ${x.approval.actor})` : ''))));
  section.hidden = false;
}

function openDeal(id) {
  state.deal = id;
  writeUrl();
  renderDeal().catch(showError);
  $('#deal').scrollIntoView();
}

// ---- all panes at the chosen time ---------------------------------------------------------------

async function render() {
  const seq = ++renderSeq;
  document.body.dataset.ready = 'false';
  try {
    const t = at();
    const [canvas, today, metrics, pipeline, deals] = await Promise.all([
      api('canvas', t), api('today', t), api('metrics', t), api('pipeline', t), api('deals', t)]);
    if (seq !== renderSeq) return;
    renderGoals(today.goals || []);
    renderToday(today);
    renderMetrics(metrics);
    renderFunnel(deals, pipeline, metrics);
    renderDeals(deals);
    await renderCanvas(canvas, seq);
    await renderDeal();
    if (seq !== renderSeq) return;
    showError(null);
    document.body.dataset.position = String(canvas.position);
    document.body.dataset.renderedFor = state.date ? `${state.axis}=${state.date}` : 'now';
    document.body.dataset.ready = 'true';
  } catch (e) {
    if (seq === renderSeq) showError(e);
  }
}

async function span() {
  const today = await api('today');
  state.first = today.first_event_at || null;
  state.last = today.last_event_at || null;
  setSlider();
}

// ---- live ----------------------------------------------------------------------------------------

// The event stream with the token in a header (EventSource cannot send one), read as SSE
// text; resumed from the last id after a break.
async function follow() {
  for (;;) {
    try {
      const headers = token ? { Authorization: 'Bearer ' + token } : {};
      if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(new URL('api/v1/events', base), { headers });
      if (res.status === 401 || res.status === 403) {
        await askToken();
        continue;
      }
      if (!res.ok || !res.body) throw new Error('event stream: ' + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id = null, data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (id !== null) onEvent(id, data);
        }
      }
    } catch (e) {
      // the server went away or the tab slept: try again shortly
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function onEvent(id, data) {
  lastEventId = id;
  let e = null;
  try { e = JSON.parse(data); } catch (_) { return; }
  if (e.occurred_at && (!state.last || e.occurred_at > state.last)) state.last = e.occurred_at;
  if (e.occurred_at && (!state.first || e.occurred_at < state.first)) state.first = e.occurred_at;
  if (state.date) return;  // a view of the past does not move
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { setSlider(); render(); }, 50);
}

// ---- wiring --------------------------------------------------------------------------------------

function onTimeChange() {
  const slider = $('#slider');
  state.axis = $('#axis').value;
  state.date = slider.value === slider.max ? null : fromDays(Number(slider.value));
  writeUrl();
  setSlider();
  render();
}

async function main() {
  readUrl();
  $('#slider').addEventListener('input', () => { $('#date').textContent = $('#slider').value === $('#slider').max ? 'now' : fromDays(Number($('#slider').value)); });
  $('#slider').addEventListener('change', onTimeChange);
  $('#axis').addEventListener('change', onTimeChange);
  $('#now').addEventListener('click', () => { $('#slider').value = $('#slider').max; onTimeChange(); });
  $('#close-deal').addEventListener('click', () => { state.deal = null; writeUrl(); renderDeal(); });
  $('#time').addEventListener('submit', (ev) => ev.preventDefault());
  try {
    await span();
  } catch (e) {
    showError(e);
  }
  await render();
  follow();
}

main();
