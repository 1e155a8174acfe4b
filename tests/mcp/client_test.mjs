// `leanos mcp` driven by a client nobody here wrote: the official MCP TypeScript SDK
// (@modelcontextprotocol/sdk, pinned in package-lock.json), over stdio, against the real
// binary. Usage: node client_test.mjs PATH/TO/leanos
//
// It records a whole deal through tools, checks that an out-of-order stage comes back as a
// tool error with its rule and nothing recorded, that a view as of a date equals the CLI's
// JSON, that --read-only refuses commands, and that a resource subscription is told when the
// CLI records an event through a running server.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const leanos = process.argv[2];
assert.ok(leanos, 'usage: node client_test.mjs PATH/TO/leanos');
const dir = mkdtempSync(join(tmpdir(), 'leanos-mcp-'));
const data = join(dir, 'data');
const children = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function connect(args) {
  const transport = new StdioClientTransport({ command: leanos, args: ['mcp', ...args], stderr: 'inherit' });
  const client = new Client({ name: 'sdk-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

function cli(args) {
  const r = spawnSync(leanos, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `leanos ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function recorded(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.ok(!r.isError, `${name}: ${JSON.stringify(r.content)}`);
  return r.structuredContent;
}

// ---- stdio: tools, a whole deal, a refusal, a view as of a date ---------------------------
{
  const client = await connect(['--data', data]);
  assert.equal(client.getServerVersion().name, 'leanos-ledger');
  assert.ok(client.getServerCapabilities().resources.subscribe);

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const expected of ['deal_open', 'deal_hypothesis', 'deal_decide', 'deal_close', 'deal_learn', 'canvas', 'goal', 'today', 'deals'])
    assert.ok(names.includes(expected), `tools/list lacks ${expected}`);
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  for (const t of tools) {
    assert.ok(ajv.validateSchema(t.inputSchema), `${t.name}: inputSchema is not JSON Schema: ${ajv.errorsText()}`);
    assert.ok(ajv.validateSchema(t.outputSchema), `${t.name}: outputSchema is not JSON Schema: ${ajv.errorsText()}`);
    ajv.compile(t.inputSchema);
    ajv.compile(t.outputSchema);
  }

  // The seed's example deal, every stage through a tool. The SDK checks each result's
  // structuredContent against the tool's outputSchema.
  await recorded(client, 'goal_define', { goal_id: 'g-mrr-50k', title: 'Reach $50K MRR by Q2', metric: 'MRR', target: 50000, due: '2026-06-30T00:00:00Z', occurred_at: '2026-01-02' });
  await recorded(client, 'goal_subgoal', { goal_id: 'g-mrr-50k', subgoal_id: 'SG1', title: 'Close first 3 customers', metric: 'CUSTOMERS', target: 3, occurred_at: '2026-01-02' });
  await recorded(client, 'canvas_assume', { assumption_id: 'A4', statement: 'Enterprise customers prefer white-label', confidence: 60, occurred_at: '2026-01-02' });
  const at = '2026-01-10';
  const lead = await recorded(client, 'deal_open', {
    deal_id: 'acme-corp', company: 'Acme Corp', segment: 'enterprise', source: 'INBOUND', channel: 'website',
    contact: { name: 'Jane Roe', title: 'VP Operations', email: 'jane@acme.example' }, signal: 'demo request',
    goal_id: 'g-mrr-50k', subgoal_id: 'SG1', occurred_at: at,
  });
  assert.equal(lead.stream, 'deal-acme-corp');
  assert.equal(lead.events[0].actor, 'sdk-test');
  await recorded(client, 'deal_hypothesis', { deal_id: 'acme-corp', segment: 'enterprise', assumption_id: 'A4', confidence: 60, occurred_at: at });
  await recorded(client, 'deal_implication', { deal_id: 'acme-corp', arr_low: 100000, arr_high: 400000, strategic: 'HIGH', cost_hours: 40, priority: 0.85, occurred_at: at });
  await recorded(client, 'deal_decide', { deal_id: 'acme-corp', verdict: 'QUALIFY', reason: 'Tests A4; enterprise ARR', alternatives: ['defer to next quarter'], impact: 0.7, occurred_at: at });
  const steps = [['sales:lead-intake', 'READY_FOR_QUALIFICATION'], ['sales:qualify', 'QUALIFIED'], ['sales:demo', 'INTERESTED'], ['sales:pilot', 'SUCCESS'], ['sales:close', 'WON']];
  for (const [action, result] of steps) {
    const day = action === 'sales:pilot' || action === 'sales:close' ? '2026-02-25' : at;
    await recorded(client, 'deal_action_start', { deal_id: 'acme-corp', action, occurred_at: day });
    if (action === 'sales:qualify')
      await recorded(client, 'deal_qualify_score', { deal_id: 'acme-corp', problem: 0.9, authority: 0.8, budget: 0.8, urgency: 0.7, fit: 0.9, occurred_at: day });
    await recorded(client, 'deal_action_complete', { deal_id: 'acme-corp', action, result, occurred_at: day });
  }
  await recorded(client, 'deal_close', { deal_id: 'acme-corp', outcome: 'WON', arr: 96000, mrr: 8000, occurred_at: '2026-02-25' });
  await recorded(client, 'deal_learn', { deal_id: 'acme-corp', assumption_id: 'A4', result: 'VALIDATED', confidence: 95, evidence: 'chose white-label', occurred_at: '2026-02-25' });
  // The learning moved the canvas, and the close the goal, by the time the tool answered.
  const canvasNow = (await client.callTool({ name: 'canvas', arguments: {} })).structuredContent;
  assert.equal(canvasNow.assumptions.find((a) => a.id === 'A4').confidence, 95);
  const goal = (await client.callTool({ name: 'goal', arguments: { goal_id: 'g-mrr-50k' } })).structuredContent;
  assert.match(JSON.stringify(goal), /8000/);
  const goals = (await client.callTool({ name: 'goals', arguments: {} })).structuredContent;
  assert.deepEqual(goals.goals.map((g) => g.id), ['g-mrr-50k']);

  // Out of order: a decision for a deal that has only its input. Refused with its rule, the
  // next step named by its tool, and nothing recorded.
  await recorded(client, 'deal_open', {
    deal_id: 'beta-bank', company: 'Beta Bank', segment: 'enterprise', source: 'OUTBOUND', channel: 'prospecting',
    contact: { name: 'Bob Stone', email: 'bob@beta.example' }, signal: 'reply', occurred_at: '2026-03-01',
  });
  const before = (await client.callTool({ name: 'deal', arguments: { deal_id: 'beta-bank' } })).structuredContent;
  const refused = await client.callTool({ name: 'deal_decide', arguments: { deal_id: 'beta-bank', verdict: 'QUALIFY', reason: 'fit', occurred_at: '2026-03-02' } });
  assert.equal(refused.isError, true);
  assert.equal(refused._meta['leanos/rule'], 'STAGE_SKIPPED');
  assert.match(refused.content[0].text, /STAGE_SKIPPED/);
  assert.match(refused.content[0].text, /deal_hypothesis/);
  const after = (await client.callTool({ name: 'deal', arguments: { deal_id: 'beta-bank' } })).structuredContent;
  assert.deepEqual(after, before);

  // Views at a date, as the CLI prints them (the client is closed first: the CLI opens the folder).
  const canvasThen = (await client.callTool({ name: 'canvas', arguments: { as_of: '2026-02-01' } })).structuredContent;
  const goalThen = (await client.callTool({ name: 'goal', arguments: { goal_id: 'g-mrr-50k', as_of: '2026-02-01' } })).structuredContent;
  const goalNow = (await client.callTool({ name: 'goal', arguments: { goal_id: 'g-mrr-50k', as_of: '2026-03-05' } })).structuredContent;
  const dealThen = (await client.callTool({ name: 'deal', arguments: { deal_id: 'acme-corp', as_of: '2026-01-31' } })).structuredContent;
  assert.notDeepEqual(goalThen, goalNow);
  // What if acme-corp had not happened: the goal's branch beside reality; nothing recorded.
  const whatif = (await client.callTool({
    name: 'whatif',
    arguments: { query: { goal: { goal_id: 'g-mrr-50k' }, as_of: '2026-03-05' }, without: [{ deal_id: 'acme-corp' }] },
  })).structuredContent;
  assert.deepEqual(whatif.reality, goalNow);
  assert.ok(whatif.branch.current < goalNow.current, JSON.stringify(whatif.branch));
  assert.ok(whatif.differences.some((d) => d.path === 'goal.current'));
  // Saved by name (its definition recorded, by this client), listed, and run again by name.
  const saving = (await client.callTool({
    name: 'whatif',
    arguments: { query: { goal: { goal_id: 'g-mrr-50k' }, as_of: '2026-03-05' }, without: [{ deal_id: 'acme-corp' }], save: 'no-acme',
      description: 'the goal without acme-corp?' },
  })).structuredContent;
  assert.equal(saving.saved.name, 'no-acme');
  assert.equal(saving.saved.version, 1);
  const scenarios = (await client.callTool({ name: 'scenarios', arguments: {} })).structuredContent;
  assert.deepEqual(scenarios.scenarios.map((x) => [x.name, x.description, x.as_of]), [['no-acme', 'the goal without acme-corp?', '2026-03-05']]);
  assert.ok(scenarios.scenarios[0].saved_by.length > 0);
  const rerun = (await client.callTool({ name: 'whatif', arguments: { query: { goal: { goal_id: 'g-mrr-50k' } }, scenario: 'no-acme' } })).structuredContent;
  assert.deepEqual(rerun.branch, whatif.branch);
  assert.equal(rerun.scenario.name, 'no-acme');
  const impossible = await client.callTool({
    name: 'whatif',
    arguments: { query: { canvas: {} }, with: [{ tool: 'deal_close', arguments: { deal_id: 'acme-corp', outcome: 'WON', arr: 1, occurred_at: '2026-04-01' } }] },
  });
  assert.equal(impossible.isError, true);
  assert.match(impossible.content[0].text, /on the branch/);
  const resource = await client.readResource({ uri: 'leanos://deals/acme-corp?as_of=2026-01-31' });
  assert.deepEqual(JSON.parse(resource.contents[0].text), dealThen);
  const prompt = await client.getPrompt({ name: 'record_learning', arguments: { deal_id: 'beta-bank' } });
  assert.match(prompt.messages[0].content.text, /Beta Bank/);
  await client.close();

  assert.deepEqual(JSON.parse(cli(['--data', data, 'canvas', 'show', '--as-of', '2026-02-01', '--json'])), canvasThen);
  assert.deepEqual(JSON.parse(cli(['--data', data, 'goal', 'show', 'g-mrr-50k', '--as-of', '2026-02-01', '--json'])), goalThen);
  assert.deepEqual(JSON.parse(cli(['--data', data, 'deal', 'show', 'acme-corp', '--as-of', '2026-01-31', '--json'])), dealThen);
  console.log('stdio: a whole deal through tools, a refusal, views as of a date equal to the CLI');
}

// ---- a LeanOS folder through the import tool, its progress told as it goes -------------------
{
  const client = await connect(['--data', join(dir, 'imported')]);
  // A LeanOS folder through the import tool, its progress told as it goes.
  const fixture = new URL('../fixtures/leanos-seed', import.meta.url).pathname;
  const progress = [];
  const imported = await client.callTool({ name: 'import', arguments: { dir: fixture } }, undefined, { onprogress: (p) => progress.push(p) });
  assert.ok(!imported.isError, JSON.stringify(imported.content));
  assert.ok(imported.structuredContent.events_recorded > 0);
  assert.ok(progress.length >= 2 && progress.every((p, i) => p.progress === i && p.total === progress.length), JSON.stringify(progress));
  await client.close();
  console.log('import: a LeanOS folder, with progress');
}

// ---- --read-only ----------------------------------------------------------------------------
{
  const client = await connect(['--data', data, '--read-only']);
  const { tools } = await client.listTools();
  assert.ok(tools.every((t) => t.annotations.readOnlyHint), 'a read-only server lists a command');
  const refused = await client.callTool({ name: 'deal_open', arguments: { deal_id: 'x', company: 'X' } });
  assert.equal(refused.isError, true);
  assert.match(refused.content[0].text, /read-only/);
  await client.close();
  console.log('--read-only: views only, a command refused');
}

// ---- a subscription told of what the CLI records through a running server ------------------
{
  const served = join(dir, 'served');
  const server = spawn(leanos, ['serve', '--data', served, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(server);
  const lines = createInterface({ input: server.stdout });
  const address = await new Promise((resolve, reject) => {
    lines.once('line', (line) => {
      const m = /^listening on (\S+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`serve printed: ${line}`));
    });
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  cli(['--server', address, 'canvas', 'assume', 'A1', '--statement', 'SMBs buy online', '--confidence', '40']);
  const client = await connect(['--server', address]);
  const updated = new Promise((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
  await client.subscribeResource({ uri: 'leanos://canvas' });
  cli(['--server', address, 'canvas', 'revise', 'A1', '--confidence', '55', '--evidence', 'review']);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no notifications/resources/updated within 30 s')), 30000).unref());
  assert.equal(await Promise.race([updated, timeout]), 'leanos://canvas');
  const canvas = JSON.parse((await client.readResource({ uri: 'leanos://canvas' })).contents[0].text);
  assert.match(JSON.stringify(canvas), /"confidence":55/);
  await client.close();
  server.kill('SIGTERM');
  console.log('--server: a subscription told of an event the CLI recorded');
}
// ---- Streamable HTTP on the dashboard's port, behind the token ------------------------------
{
  const served = join(dir, 'http');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'sesame-http-token\n');
  const server = spawn(leanos, ['serve', '--data', served, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--token-file', tokenFile],
                       { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(server);
  const lines = createInterface({ input: server.stdout });
  const printed = [];
  const [grpc, http] = await new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      printed.push(line);
      const g = /^listening on (\S+)/.exec(printed[0] ?? '');
      const h = /^dashboard on (http:\/\/\S+?)\/?$/.exec(printed[1] ?? '');
      if (g && h) resolve([g[1], h[1]]);
      else if (printed.length >= 2) reject(new Error(`serve printed: ${printed.join(' | ')}`));
    });
    server.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const url = new URL(`${http}/mcp`);
  const withToken = (token) => new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });

  // A wrong token: refused before any session exists.
  const intruder = new Client({ name: 'intruder', version: '1' });
  await assert.rejects(intruder.connect(withToken('wrong')), /401|wrong token|Unauthorized/i);
  // A page of another origin (DNS rebinding): 403. (On the connection the refused client left
  // open: a refusal before the body was read once made the next request there a 400.)
  const foreign = await fetch(url, { method: 'POST', headers: { Authorization: 'Bearer sesame-http-token', Origin: 'http://evil.example',
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
  assert.equal(foreign.status, 403, await foreign.text());

  const client = new Client({ name: 'sdk-http', version: '1.0.0' });
  await client.connect(withToken('sesame-http-token'));
  assert.ok((await client.listTools()).tools.some((t) => t.name === 'deal_open'));
  await recorded(client, 'canvas_assume', { assumption_id: 'A2', statement: 'Agents record deals', confidence: 30, occurred_at: '2026-03-01' });
  const updated = new Promise((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
  await client.subscribeResource({ uri: 'leanos://canvas' });
  cli(['--server', grpc, '--token-file', tokenFile, 'canvas', 'revise', 'A2', '--confidence', '45', '--evidence', 'review']);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no update over HTTP within 30 s')), 30000).unref());
  assert.equal(await Promise.race([updated, timeout]), 'leanos://canvas');
  const canvas = (await client.callTool({ name: 'canvas', arguments: {} })).structuredContent;
  assert.equal(canvas.assumptions.find((a) => a.id === 'A2').confidence, 45);
  // The same view through the dashboard's JSON API.
  const api = await fetch(`${http}/api/v1/canvas`, { headers: { Authorization: 'Bearer sesame-http-token' } });
  assert.deepEqual(await api.json(), canvas);
  await client.transport.terminateSession();
  await client.close();
  server.kill('SIGTERM');
  console.log('http: a session behind the token, a wrong token and a foreign origin refused, an update over SSE');
}
console.log('ok');
