// The LeanOS Ledger dashboard: the what-if panel. A scenario (deals left out, closes that
// might happen) is POSTed to /api/v1/whatif for the goals (today's view) and the canvas at the
// slider's time; the goals are charted in reality beside the branch, and every field of the
// two views that differs is listed. Nothing of a branch is recorded. A scenario can be saved
// by name (its definition is recorded) and a saved one run again against the log as it is.

const scenario = { without: new Set(), closes: [], saved: '' };

function scenarioBody(query) {
  return {
    query: { ...query, ...at() },
    scenario: scenario.saved,
    without: [...scenario.without].map((deal_id) => ({ deal_id })),
    with: scenario.closes.map((c) => ({ deal_closed: { deal_id: c.deal, outcome: 'WON', arr: c.arr }, occurred_at: c.at + 'T00:00:00Z' })),
  };
}

function renderScenarioControls(deals) {
  const list = (deals.deals || []).slice().sort((a, b) => a.deal_id.localeCompare(b.deal_id));
  $('#whatif .choices').replaceChildren(...list.map((d) => {
    const box = el('input', { type: 'checkbox', 'data-deal': d.deal_id });
    box.checked = scenario.without.has(d.deal_id);
    box.addEventListener('change', () => {
      if (box.checked) scenario.without.add(d.deal_id);
      else scenario.without.delete(d.deal_id);
      render();
    });
    return el('label', { class: 'choice' }, box, ' ' + d.deal_id);
  }));
  const open = list.filter((d) => d.status === 'open');
  const select = $('#whatif .close select');
  select.replaceChildren(...open.map((d) => el('option', { value: d.deal_id, text: `${d.deal_id} (${d.company})` })));
  $('#whatif .close button').disabled = !open.length;
  if (!$('#whatif .close input[name=at]').value) $('#whatif .close input[name=at]').value = fromDays(chosenDay() + 30);
  $('#whatif .closes').replaceChildren(...scenario.closes.map((c, i) => {
    const remove = el('button', { type: 'button', text: 'remove' });
    remove.addEventListener('click', () => {
      scenario.closes.splice(i, 1);
      render();
    });
    return el('li', { 'data-close': c.deal }, `${c.deal} won at ${dollars(c.arr)} ARR on ${c.at} `, remove);
  }));
}

// The saved scenarios, each with a button that runs it (its changes, then the panel's own).
async function renderSaved() {
  const saved = await api('scenarios');
  $('#whatif .saved ul').replaceChildren(...(saved.scenarios || []).map((s) => {
    const run = el('button', { type: 'button', text: 'run' });
    run.addEventListener('click', () => {
      scenario.saved = s.name;
      scenario.without.clear();
      scenario.closes = [];
      render();
    });
    const changes = [...(s.without || []).map((w) => 'without ' + (w.deal_id || w.campaign_id || w.event_id || (w.type_from && w.type_from.type))),
      ...(s.with || []).map((c) => 'with ' + c.type)].join(', ');
    return el('li', { 'data-scenario': s.name }, el('b', { text: s.name }), ` v${s.version} by ${s.saved_by}: ${s.description || changes} `, run);
  }));
  const running = $('#whatif .running');
  running.hidden = !scenario.saved;
  $('#whatif .running .name').textContent = scenario.saved;
}

async function renderWhatIf(deals, seq) {
  renderScenarioControls(deals);
  await renderSaved();
  if (seq !== renderSeq) return;
  const result = $('#whatif .result');
  if (!scenario.without.size && !scenario.closes.length && !scenario.saved) {
    if (charts['whatif-chart']) charts['whatif-chart'].destroy();
    delete charts['whatif-chart'];
    result.replaceChildren(el('p', { class: 'muted', text: 'leave a deal out or add a close to see the branch' }));
    document.body.dataset.whatif = 'none';
    return;
  }
  let goals, canvas;
  try {
    [goals, canvas] = await Promise.all([api('whatif', {}, scenarioBody({ today: {} })), api('whatif', {}, scenarioBody({ canvas: {} }))]);
  } catch (e) {  // an impossible scenario: the rule that refuses it, said in the panel
    if (seq !== renderSeq) return;
    result.replaceChildren(el('p', { class: 'miss', 'data-refused': 'true', text: String(e.message || e) }));
    document.body.dataset.whatif = 'refused';
    return;
  }
  if (seq !== renderSeq) return;
  const real = goals.reality.goals || [], branch = goals.branch.goals || [];
  chart('whatif-chart', {
    type: 'bar',
    data: {
      labels: real.map((g) => g.id),
      datasets: [
        { label: 'reality', data: real.map((g) => g.progress * 100), backgroundColor: '#98a2b3' },
        { label: 'branch', data: real.map((g) => ((branch.find((b) => b.id === g.id) || {}).progress || 0) * 100), backgroundColor: '#2e5bff' },
      ],
    },
    options: { maintainAspectRatio: false, animation: false, scales: { y: { min: 0, max: 100, title: { display: true, text: '% of target' } } } },
  });
  const differences = [...goals.differences.filter((d) => d.path.startsWith('today.goals')), ...canvas.differences];
  result.replaceChildren(
    el('p', { class: 'muted', text: `${goals.events_left_out} events of the log left out, ${goals.events_added} added` }),
    differences.length
      ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'differs' }), el('th', { text: 'reality' }), el('th', { text: 'branch' }))),
        el('tbody', {}, differences.map((d) => el('tr', { 'data-path': d.path },
          el('td', { text: d.path }), el('td', { class: 'reality', text: d.reality }), el('td', { class: 'branch', text: d.branch })))))
      : el('p', { class: 'muted', text: 'the goals and the canvas read the same as in reality' }));
  document.body.dataset.whatif = (scenario.saved ? scenario.saved + ':' : '') + [...scenario.without].join(',') + '|' +
    scenario.closes.map((c) => c.deal).join(',');
}

function wireWhatIf() {
  $('#whatif .close').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    const arr = Number(form.arr.value);
    if (!form.deal.value || !(arr > 0) || !form.at.value) return;
    scenario.closes.push({ deal: form.deal.value, arr, at: form.at.value });
    render();
  });
  $('#whatif .running .unload').addEventListener('click', () => {
    scenario.saved = '';
    render();
  });
  // Saved as the panel reads it: the saved scenario it runs, then its own changes.
  $('#whatif .save').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const reply = await api('whatif', {}, { ...scenarioBody({ today: {} }), save: form.name.value, description: form.description.value, actor: 'dashboard' });
      showError(null);
      form.reset();
      scenario.saved = reply.saved.name;
      scenario.without.clear();
      scenario.closes = [];
      render();
    } catch (e) {
      showError(e);
    }
  });
}
