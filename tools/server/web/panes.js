// The LeanOS Ledger dashboard, part 2 of 3: each pane drawn from a view of the JSON API at the
// slider's date (common.js holds the helpers; app.js the live stream and the wiring).

// ---- panes ----------------------------------------------------------------------------------------

function chart(id, config) {
  if (!window.Chart) return;  // Chart.js missing: the tables still tell
  if (charts[id]) charts[id].destroy();
  charts[id] = new window.Chart($('#' + id), config);
}

// A vertical line at the slider's date on a chart whose x axis is in days (business time:
// on the knowledge-time axis the charts still plot business dates, so no line is drawn).
const dateLine = {
  id: 'dateLine',
  afterDatasetsDraw(c) {
    if (!state.date || state.axis !== 'as_of') return;
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
// The chosen day (the slider's, or today) in days since 1970.
const chosenDay = () => toDays(state.date ? state.date + 'T00:00:00Z' : new Date().toISOString());
// An x axis of whole days from the span's first business date to `until` (never 1970 for an
// empty chart), labelled once per date; a tooltip is titled by the date, not the day number.
function dayAxis(until) {
  const first = state.span.as_of[0] ? toDays(state.span.as_of[0]) : until - 30;
  return {
    type: 'linear', min: Math.min(first, until - 1), max: until,
    ticks: { precision: 0, maxTicksLimit: 6, callback: (v) => (Number.isInteger(v) ? fromDays(v) : '') },
  };
}
const dateTooltip = { callbacks: { title: (items) => (items.length ? fromDays(Math.round(items[0].parsed.x)) : '') } };

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
    // The trajectory: the goal's value as the folds give it (the baseline from its start, a
    // step at each won deal that counted, flat to the chosen date), the pace needed from the
    // start to the target at the deadline, and the forecast from here at the current rate.
    const start = g.defined_at ? toDays(g.defined_at) : null;
    const now = chosenDay();
    const due = g.due ? toDays(g.due + 'T00:00:00Z') : null;
    const needed = start !== null && due !== null ? [{ x: start, y: Number(g.baseline) }, { x: due, y: Number(g.target) }] : [];
    const actual = start !== null ? [{ x: start, y: Number(g.baseline) }] : [];
    for (const p of g.history || []) actual.push({ x: toDays(p.at), y: Number(p.value), deal: p.deal_id });
    actual.push({ x: Math.max(now, actual.length ? actual[actual.length - 1].x : now), y: Number(g.current) });
    const forecast = !g.met && due !== null && due > now && t.projected !== undefined
      ? [{ x: now, y: Number(g.current) }, { x: due, y: Number(t.projected) }] : [];
    box.append(el('p', { class: 'forecast muted', 'data-projected': t.projected },
      g.met ? `met on ${day(g.met_at)}`
        : due === null ? 'no deadline: no forecast'
          : `forecast at ${g.due}: ${t.projected !== undefined ? amount(g.metric, t.projected) : '–'} of ${amount(g.metric, g.target)} at the current pace`
            + (t.on_track ? ' (on track)' : ` (needs ${amount(g.metric, Math.max(0, Number(g.target) - Number(g.current)))} more)`)));
    chart('goal-chart-' + g.id, {
      type: 'line',
      data: { datasets: [
        { label: 'needed', data: needed, borderDash: [6, 4], borderColor: '#98a2b3', pointRadius: 0 },
        { label: 'reached', data: actual, borderColor: '#2e5bff', stepped: 'before' },
        { label: 'forecast', data: forecast, borderDash: [2, 3], borderColor: '#dc6803', pointRadius: 0 },
      ] },
      options: {
        animation: false, maintainAspectRatio: false, parsing: false,
        scales: { x: dayAxis(Math.max(now, due || now)), y: { beginAtZero: true } },
        plugins: { tooltip: dateTooltip },
      },
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
  const until = chosenDay();
  tbody.replaceChildren(...canvas.assumptions.map((a) => el('tr', { 'data-assumption': a.id },
    el('td', { text: a.id }), el('td', { text: a.statement }),
    el('td', { class: 'confidence num', 'data-value': a.confidence, text: a.confidence }),
    el('td', { text: a.status }), el('td', { class: 'num', text: a.evidence_count }))));
  // Each assumption's history (why holds every revision) up to the chosen date, on the chosen
  // axis: what had occurred by it, or what had been recorded by it. The line ends where the
  // table stands.
  const histories = await Promise.all(canvas.assumptions.map((a) => api('why/' + encodeURIComponent(a.id)).catch(() => ({ changes: [] }))));
  const knownBy = state.date ? state.date + 'T23:59:59.999999Z' : null;
  if (seq !== renderSeq) return;
  const palette = ['#2e5bff', '#12805c', '#c4320a', '#7a5af8', '#dc6803', '#0e9384', '#667085'];
  const series = canvas.assumptions.map((a, i) => {
    const data = points(histories[i]).filter((p) => (state.axis === 'as_of' ? p.x <= until : !knownBy || p.change.event.recorded_at <= knownBy));
    if (data.length) data.push({ x: until, y: a.confidence, end: true });
    return { id: a.id, label: a.id, data, borderColor: palette[i % palette.length], stepped: 'before',
      pointRadius: data.map((p) => (p.end ? 0 : 5)), pointHoverRadius: 7 };
  });
  chart('canvas-chart', {
    type: 'line',
    data: { datasets: series },
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: { x: dayAxis(until), y: { min: 0, max: 100, title: { display: true, text: '%' } } },
      plugins: { tooltip: dateTooltip },
      onClick: (ev, elements) => {
        const hit = elements.find((e) => !series[e.datasetIndex].data[e.index].end);
        if (!hit) return;
        showWhy(series[hit.datasetIndex].id, series[hit.datasetIndex].data[hit.index]);
      },
    },
    plugins: [dateLine],
  });
}

const STAGES = ['1-input', '2-hypothesis', '3-implication', '4-decision', '5-actions', '6-learning'];

// A metric's target as the view gives it ({metric, comparison, value, met}): its text, with
// the value shown by `show`, and whether the ledger meets it (null while the metric is
// unknown). The ledger judges; the page only shows.
function targetOf(view, key, show) {
  const t = (view.targets || []).find((x) => x.metric === key);
  if (!t) return { text: '', met: null };
  return { text: `${t.comparison} ${show(t.value)}`, met: t.met === undefined ? null : t.met };
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
    const target = targetOf(metrics, key, pct), ok = target.met;
    return el('tr', { 'data-metric': key }, el('td', { text: label }), el('td', { class: 'num ' + (ok === null ? '' : ok ? 'ok' : 'miss'), text: pct(metrics[key]) }), el('td', { text: target.text }));
  }));
  // The open pipeline's value by stage: each deal's ARR potential (its implication's range),
  // and how many deals have none yet (before stage 3): unknown, not $0.
  const value = {};
  for (const d of pipeline.deals) {
    const v = value[d.stage] || (value[d.stage] = { deals: 0, low: 0, high: 0, unknown: 0 });
    v.deals += 1;
    if (Number(d.arr_high || 0) > 0) {
      v.low += Number(d.arr_low || 0);
      v.high += Number(d.arr_high);
    } else v.unknown += 1;
  }
  $('#funnel .value tbody').replaceChildren(...(Object.keys(value).length
    ? STAGES.filter((st) => value[st]).map((st) => {
      const v = value[st];
      return el('tr', { 'data-stage': st }, el('td', { text: st }), el('td', { class: 'num', text: v.deals }),
        el('td', { class: 'num', 'data-low': v.low, 'data-high': v.high, text: v.high ? `${dollars(v.low)}–${dollars(v.high)}` : '–' }),
        el('td', { class: 'muted', text: v.unknown ? `${v.unknown} not assessed yet` : '' }));
    })
    : [el('tr', {}, el('td', { class: 'muted', colspan: 4, text: 'no open deal' }))]));
  const byAction = {};
  for (const d of pipeline.deals) byAction[d.action || 'no action under way'] = (byAction[d.action || 'no action under way'] || 0) + 1;
  $('#funnel .actions').replaceChildren(...(Object.keys(byAction).length
    ? Object.entries(byAction).sort().map(([a, n]) => el('li', {}, `${a}: ${n}`))
    : [el('li', { class: 'muted', text: 'no open deal' })]));
}

function renderMetrics(m) {
  const rows = [
    ['MRR', dollars(m.mrr || 0)], ['ARR', dollars(m.arr || 0)], ['customers', m.customers], ['deals', m.deals], ['open', m.open], ['won', m.won], ['lost', m.lost],
    ['average deal', known(m.avg_deal_size) ? dollars(m.avg_deal_size) : '–'], ['average cycle', known(m.avg_cycle_days) ? round1(m.avg_cycle_days) + ' days' : '–'],
    ['lead response', known(m.lead_response_hours) ? round1(m.lead_response_hours) + ' h' : '–', 'lead_response_hours', (v) => v + ' h'],
    ['qualification', known(m.qualification_days) ? round1(m.qualification_days) + ' days' : '–', 'qualification_days', (v) => v + ' days'],
    // Unknown is not zero: a value the records do not give is '–'; one resting on some deals says so.
    ['CAC', known(m.cac) ? dollars(m.cac) + coverage(m.costs_known, m.closed) : '–'],
    ['margin', known(m.avg_margin_pct) ? round1(m.avg_margin_pct) + ' %' + coverage(m.margins_known, m.won) : '–'],
  ];
  if (m.one_off) rows.splice(2, 0, ['one-off revenue', dollars(m.one_off)]);
  $('#metrics tbody').replaceChildren(...rows.map(([label, value, key, show]) => {
    const target = key ? targetOf(m, key, show) : { text: '', met: null }, ok = target.met;
    return el('tr', { 'data-metric': key || label }, el('td', { text: label }), el('td', { class: 'num ' + (ok === null ? '' : ok ? 'ok' : 'miss'), text: value }), el('td', { class: 'muted', text: target.text }));
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
  // Each file the facts were read from, with its history: every version the files layer
  // keeps, the one the facts came from marked.
  const files = [...new Set((d.sources || []).map((x) => x.file))];
  const histories = await Promise.all(files.map((f) => api('files', { path: f }).catch(() => null)));
  $('.id', section).textContent = d.deal_id;
  const stage = (n, title, when, ...lines) => el('div', { class: 'stage' + (when ? '' : ' missing'), 'data-stage': n },
    el('b', { text: `${n} ${title}` }), ' ', el('span', { class: 'muted', text: when ? day(when) : 'not yet' }), ...lines.filter(Boolean).map((l) => el('div', { text: l })));
  const i = d.input || {}, h = d.hypothesis, m = d.implication, c = d.decision, o = d.outcome;
  section.querySelector('.body').replaceChildren(
    el('div', { class: 'stages' },
      stage(1, 'input', d.input_at, `${i.company} (${i.segment || 'segment unknown'}), ${i.source || 'source unknown'}`, i.signal || 'signal unknown',
        ...(i.unknown || []).map((u) => `${u}: unknown — the input named none`)),
      stage(2, 'hypothesis', d.hypothesis_at, h && `tests ${h.assumption_id} at ${h.confidence} %`),
      stage(3, 'implication', d.implication_at, m && `ARR ${dollars(m.arr_low)}–${dollars(m.arr_high)}, ${m.strategic || 'strategic unknown'}, priority ${m.priority}`),
      stage(4, 'decision', d.decision_at, c && `${c.verdict}: ${c.reason}`, c && `impact ${c.impact}`),
      stage(5, 'actions', (d.actions || []).length ? (d.actions[0].started_at || d.actions[0].planned_at) : null, ...(d.actions || []).map((a) => `${a.action} ${a.status}${a.result ? ' → ' + a.result : ''}`)),
      stage(6, 'learning', d.learning_at || d.outcome_at, o && `${o.outcome}${o.arr ? ' ' + dollars(o.arr) + ' ARR' : ''}`, ...(d.learnings || []).map((l) => `${l.assumption_id} ${l.result}${l.confidence !== undefined ? ' → ' + l.confidence + ' %' : ''}`))),
    ...((d.sources || []).length ? [el('h3', { text: 'read from the workspace\'s files' }),
      el('ul', { class: 'sources' }, d.sources.map((x) => el('li', {
        text: `${x.event_type}${x.subject ? ' ' + x.subject : ''}: ${x.file}:${x.line || 0}, version ${(x.sha256 || '').slice(0, 12)}${x.git_commit ? ', commit ' + x.git_commit.slice(0, 10) : ''}` }))),
      el('h3', { text: 'the history of those files' }),
      ...files.map((f, k) => el('div', { class: 'file-history', 'data-file': f }, el('b', { text: f }),
        el('ul', {}, ((histories[k] || {}).versions || []).map((v) => {
          const used = (d.sources || []).some((x) => x.file === f && x.sha256 && x.sha256 === v.sha256);
          return el('li', { class: used ? 'used' : '',
            text: `v${v.version} ${v.written_at ? day(v.written_at) : ''} ${(v.kind || '').replace('FILE_', '').toLowerCase()} ${(v.sha256 || '').slice(0, 12)}` +
              `${v.commit ? ' commit ' + v.commit.slice(0, 10) : ''}${used ? ' ← the facts above' : ''}` });
        }))))] : []),
    el('h3', { text: 'audit' }),
    el('ul', {}, (audit.decisions || []).map((x) => el('li', {}, `${day(x.event.occurred_at)} ${x.event.decision_made.verdict} by ${x.event.actor}: ${x.event.decision_made.reason}`,
      x.approval ? ` (approved by ${x.approval.actor})` : ''))));
  section.hidden = false;
}

async function openDeal(id) {
  state.deal = id;
  writeUrl();
  try {
    await renderDeal();
    $('#deal').scrollIntoView({ block: 'start' });  // below the fold: show it, or it looks like nothing happened
  } catch (e) {
    showError(e);
  }
}

// What changed from an earlier date to the chosen one (on the same time axis): assumptions,
// goals, the key metrics, and the deals that appeared or moved.
async function renderChanges(now, seq) {
  const body = $('#changes .body');
  const to = state.date || new Date().toISOString().slice(0, 10);
  const since = state.since || fromDays(toDays(to + 'T00:00:00Z') - 30);
  $('#since').value = since;
  if (since >= to) {
    body.replaceChildren(el('p', { class: 'muted', text: `pick a date before ${to}` }));
    return;
  }
  const t = { [state.axis]: since };
  const [canvas, today, metrics, deals] = await Promise.all([api('canvas', t), api('today', t), api('metrics', t), api('deals', t)]);
  if (seq !== renderSeq) return;
  const lines = [];
  const was = Object.fromEntries(canvas.assumptions.map((a) => [a.id, a]));
  for (const a of now.canvas.assumptions) {
    const b = was[a.id];
    if (!b) lines.push(['assumption', a.id, `new: ${a.confidence} % ${a.status}`]);
    else if (b.confidence !== a.confidence || b.status !== a.status)
      lines.push(['assumption', a.id, `${b.confidence} % ${b.status} → ${a.confidence} % ${a.status}`]);
  }
  const goalsWere = Object.fromEntries((today.goals || []).map((g) => [g.id, g]));
  for (const g of now.today.goals || []) {
    const b = goalsWere[g.id];
    if (!b) lines.push(['goal', g.id, `defined: ${amount(g.metric, g.current)} of ${amount(g.metric, g.target)}`]);
    else if (String(b.current) !== String(g.current) || b.met !== g.met)
      lines.push(['goal', g.id, `${amount(g.metric, b.current)} → ${amount(g.metric, g.current)}${g.met && !b.met ? ', target met' : ''}`]);
  }
  for (const [label, key, fmt] of [['MRR', 'mrr', dollars], ['ARR', 'arr', dollars], ['customers', 'customers', String], ['won', 'won', String], ['lost', 'lost', String]]) {
    const a = Number(metrics[key] || 0), b = Number(now.metrics[key] || 0);
    if (a !== b) lines.push(['metric', label, `${fmt(a)} → ${fmt(b)}`]);
  }
  const dealsWere = Object.fromEntries(deals.deals.map((d) => [d.deal_id, d]));
  for (const d of now.deals.deals) {
    const b = dealsWere[d.deal_id];
    if (!b) lines.push(['deal', d.deal_id, `new: ${d.stage}, ${d.status}`]);
    else if (b.stage !== d.stage || b.status !== d.status) lines.push(['deal', d.deal_id, `${b.stage} ${b.status} → ${d.stage} ${d.status}`]);
  }
  body.replaceChildren(lines.length
    ? el('table', {}, el('tbody', {}, lines.map(([kind, id, what]) => el('tr', { 'data-kind': kind, 'data-id': id },
      el('td', { class: 'muted', text: kind }), el('td', { text: id }), el('td', { text: what })))))
    : el('p', { class: 'muted', text: `nothing changed from ${since} to ${to}` }));
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
    await renderChanges({ canvas, today, metrics, deals }, seq);
    await renderDeal();
    await renderWhatIf(deals, seq);
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
  state.span.as_of = [today.first_event_at || null, today.last_event_at || null];
  state.span.known_at = [today.first_recorded_at || null, today.last_recorded_at || null];
  setSlider();
}
