// The LeanOS Ledger dashboard, part 3 of 3: the live event stream, and the wiring of the
// controls and the first render (common.js and panes.js come before).

// ---- live ----------------------------------------------------------------------------------------

// The event stream with the token in a header (EventSource cannot send one), read as SSE
// text; resumed from the last id after a break.
// A page the browser keeps for Back (its back/forward cache) must not keep its stream: a
// browser holds six connections to a server, and frozen pages' streams would take them all.
// The stream stops when the page is hidden and resumes from the last id when it is shown.
let following = null;
addEventListener('pagehide', () => { if (following) following.abort(); following = null; });
addEventListener('pageshow', (ev) => { if (ev.persisted && !following) follow(); });

async function follow() {
  const controller = new AbortController();
  following = controller;
  while (following === controller) {
    try {
      const headers = token ? { Authorization: 'Bearer ' + token } : {};
      if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(new URL('api/v1/events', base), { headers, signal: controller.signal });
      if (res.status === 401 || res.status === 403) {
        await res.body.cancel();  // an unread body would hold one of the browser's few connections to the server
        await askToken();
        continue;
      }
      if (!res.ok || !res.body) {
        // The server's share of streams is taken (429 or 503): it says when to come back.
        if (res.body) await res.body.cancel();
        const after = Number(res.headers.get('Retry-After') || 1);
        await new Promise((r) => setTimeout(r, Math.min(30, Math.max(1, after)) * 1000));
        continue;
      }
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
      // the server went away, the tab slept, or the page was hidden: try again shortly
    }
    if (following !== controller) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function onEvent(id, data) {
  lastEventId = id;
  let e = null;
  try { e = JSON.parse(data); } catch (_) { return; }
  for (const [axis, when] of [['as_of', e.occurred_at], ['known_at', e.recorded_at]]) {
    if (!when) continue;
    const span = state.span[axis];
    if (!span[1] || when > span[1]) span[1] = when;
    if (!span[0] || when < span[0]) span[0] = when;
  }
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
  wireWhatIf();
  $('#close-deal').addEventListener('click', () => { state.deal = null; writeUrl(); renderDeal(); });
  $('#since').addEventListener('change', () => { state.since = $('#since').value || null; writeUrl(); render(); });
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
