// End-to-end scenarios for ctxd's Socket.IO server with the real
// socket.io-client 4, run by tests/server/test_socketio_node.py:
//
//   node scenarios.js <ctxd url> <default|websocket> <scenario>
//
// Exits 0 when the scenario passed; otherwise prints why and exits 1.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { io } = require('socket.io-client');

const WAIT_MS = 15000;
const [url, mode, scenario] = process.argv.slice(2);
const transports = mode === 'websocket' ? ['websocket'] : undefined;
const open = [];

function unique(prefix) {
  return `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
}

function isTs(value) {
  return typeof value === 'string' && value.length >= 19 && value[4] === '-' && value[10] === 'T';
}

// One socket.io-client socket that records every event it gets.
class Recorder {
  constructor(namespace = '/', auth = undefined) {
    const options = { reconnection: false, forceNew: true, timeout: WAIT_MS };
    if (transports) options.transports = transports;
    if (auth) options.auth = auth;
    this.socket = io(url + namespace, options);
    this.events = [];
    this.waiters = [];
    this.socket.onAny((event, ...args) => this.record(event, args.length === 1 ? args[0] : args));
    this.socket.on('connect_error', (err) => this.record('connect_error', err));
    open.push(this);
  }

  record(event, data) {
    this.events.push([event, data]);
    for (const w of [...this.waiters]) w();
  }

  connected() {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve(this);
      this.socket.once('connect', () => resolve(this));
      this.socket.once('connect_error', reject);
    });
  }

  // Resolves with the first payload of `event` that satisfies `where`.
  waitFor(event, where = () => true, timeoutMs = WAIT_MS) {
    return this.waitCount((e, d) => e === event && where(d), 1, timeoutMs).then((all) => all[0][1]);
  }

  waitCount(predicate, count, timeoutMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const matching = this.events.filter(([e, d]) => predicate(e, d));
        if (matching.length < count) return false;
        this.waiters = this.waiters.filter((w) => w !== check);
        clearTimeout(timer);
        resolve(matching);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const last = JSON.stringify(this.events.slice(-10).map(([e, d]) => [e, d instanceof Error ? d.message : d]));
        reject(new Error(`timed out waiting (${count} wanted); last events ${last}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  all(event) {
    return this.events.filter(([e]) => e === event).map(([, d]) => d);
  }

  close() {
    this.socket.disconnect();
  }
}

async function client(namespace = '/', auth = undefined) {
  return new Recorder(namespace, auth).connected();
}

async function graphClient(session, extra = {}) {
  return client('/graph', { session_id: session, ...extra });
}

async function rest(method, path, body, headers = {}) {
  const options = { method, headers: { 'Content-Type': 'application/json', ...headers } };
  if (body !== undefined) options.body = JSON.stringify(body);
  const r = await fetch(url + path, options);
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: r.status, json, text };
}

async function command(session, body) {
  const r = await rest('POST', `/v1/sessions/${session}/commands`, body);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

function checkStamped(data) {
  assert.ok(isTs(data.timestamp), JSON.stringify(data));
  assert.ok(Number.isInteger(data.seq) && data.seq > 0, JSON.stringify(data));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(predicate, timeoutMs = WAIT_MS) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await predicate()) return true;
    await sleep(50);
  }
  return predicate();
}

const logged = (rec) =>
  rec.events
    .filter(([e, d]) => d && typeof d === 'object' && 'seq' in d && /^(graph|command|project):/.test(e))
    .map(([e, d]) => {
      const { timestamp, ...rest } = d;
      return [e, d.seq, rest];
    });

const scenarios = {
  async transport() {
    const rec = await client();
    if (transports) {
      assert.equal(rec.socket.io.engine.transport.name, 'websocket');
    } else {
      assert.ok(await until(() => rec.socket.io.engine.transport.name === 'websocket'),
                `still on ${rec.socket.io.engine.transport.name}`);
    }
    const key = unique('transport');
    await rest('PUT', `/v1/context/${key}`, { value: 1 });
    await rec.waitFor('context_updated', (d) => d.key === key);
  },

  async snapshot() {
    const key = unique('snap');
    assert.equal((await rest('PUT', `/v1/context/${key}`, { value: { a: [1, 2] } })).status, 200);
    const rec = await client();
    const snap = await rec.waitFor('context_snapshot');
    assert.deepEqual(Object.keys(snap).sort(), ['client_id', 'context', 'timestamp']);
    assert.deepEqual(snap.context[key], { a: [1, 2] });
    assert.ok(isTs(snap.timestamp));
    assert.ok(typeof snap.client_id === 'string' && snap.client_id.length > 0);
  },

  async client_stats() {
    const a = await client();
    const first = await a.waitFor('client_stats');
    assert.ok(Number.isInteger(first.count) && first.count >= 1);
    const b = await client();
    const n = (await b.waitFor('client_stats')).count;
    assert.ok(n >= 2);
    await a.waitFor('client_stats', (d) => d.count === n);
    b.close();
    await a.waitFor('client_stats', (d) => d.count === n - 1);
  },

  async register() {
    const rec = await client();
    const snap = await rec.waitFor('context_snapshot');
    rec.socket.emit('client_register', { type: 'dashboard', name: 'wall' });
    const conf = await rec.waitFor('registration_confirmed');
    assert.equal(conf.type, 'dashboard');
    assert.equal(conf.name, 'wall');
    assert.equal(conf.client_id, snap.client_id);
    assert.equal(typeof conf.status, 'string');
  },

  async context_set() {
    const a = await client();
    const b = await client();
    await a.waitFor('context_snapshot');
    await b.waitFor('context_snapshot');
    const key = unique('rt');
    a.socket.emit('context_set', { key, value: { n: 1 }, who: 'alice' });
    const conf = await a.waitFor('context_set_confirmed', (d) => d.key === key);
    assert.deepEqual(conf.value, { n: 1 });
    assert.equal(conf.status, 'success');
    const upd = await b.waitFor('context_updated', (d) => d.key === key);
    assert.deepEqual(upd.value, { n: 1 });
    assert.equal(upd.who, 'alice');
    assert.ok(isTs(upd.timestamp));
    assert.deepEqual((await rest('GET', `/v1/context/${key}`)).json.value, { n: 1 });
    const later = unique('later');
    await rest('PUT', `/v1/context/${later}`, { value: 0 });
    await a.waitFor('context_updated', (d) => d.key === later);
    assert.deepEqual(a.all('context_updated').filter((d) => d.key === key), []);
  },

  async rest_broadcast() {
    const rec = await client();
    await rec.waitFor('context_snapshot');
    const [k1, k2, k3] = [unique('ctx'), unique('v1'), unique('batch')];
    assert.equal((await rest('POST', '/ctx', { key: k1, value: 'v', who: 'bob' })).status, 200);
    let upd = await rec.waitFor('context_updated', (d) => d.key === k1);
    assert.deepEqual([upd.value, upd.who], ['v', 'bob']);
    assert.ok(isTs(upd.timestamp));
    assert.equal((await rest('PUT', `/v1/context/${k2}`, { value: [1], actor: 'carol' })).status, 200);
    upd = await rec.waitFor('context_updated', (d) => d.key === k2);
    assert.deepEqual([upd.value, upd.who], [[1], 'carol']);
    assert.equal((await rest('POST', '/v1/context', { set: { [k3]: true }, actor: 'dave' })).status, 200);
    upd = await rec.waitFor('context_updated', (d) => d.key === k3);
    assert.deepEqual([upd.value, upd.who], [true, 'dave']);
  },

  async dump() {
    const rec = await client();
    await rec.waitFor('context_snapshot');
    await rest('PUT', `/v1/context/${unique('d')}`, { value: 1 });
    const name = unique('dump');
    const r = await rest('POST', '/ctx/dump', { format: 'csv', filename: name, who: 'erin' });
    assert.equal(r.status, 200, r.text);
    const dumped = await rec.waitFor('context_dumped', (d) => String(d.filename).includes(name));
    assert.equal(dumped.format, 'csv');
    assert.equal(dumped.who, 'erin');
    assert.equal(dumped.key_count, r.json.key_count);
    assert.ok(isTs(dumped.timestamp));
  },

  async bad_input() {
    const rec = await client();
    await rec.waitFor('context_snapshot');
    rec.socket.emit('context_set', { value: 1 });
    const err = await rec.waitFor('error');
    assert.ok(typeof err.message === 'string' && err.message.length > 0);
    rec.socket.emit('context_set', 'not an object');
    await rec.waitCount((e) => e === 'error', 2);
    const key = unique('after-error');
    rec.socket.emit('context_set', { key, value: 2 });
    await rec.waitFor('context_set_confirmed', (d) => d.key === key);
  },

  async ack() {
    const rec = await client();
    await rec.waitFor('context_snapshot');
    const key = unique('ack');
    // emitWithAck rejects unless the server acknowledges in time.
    await rec.socket.timeout(WAIT_MS).emitWithAck('context_set', { key, value: 3, who: 'ack' });
    await rec.waitFor('context_set_confirmed', (d) => d.key === key);
    await rec.socket.timeout(WAIT_MS).emitWithAck('client_register', { type: 't', name: 'n' });
  },

  async graph_refused() {
    const rec = new Recorder('/graph');
    await assert.rejects(rec.connected(), (err) => err.message === 'Connection rejected by server');
    await sleep(500);
    assert.equal(rec.socket.connected, false);
  },

  async unknown_namespace() {
    const rec = new Recorder('/nope');
    await assert.rejects(rec.connected(), (err) => err.message === 'Invalid namespace');
  },

  async session_connected() {
    const session = unique('s');
    const a = await graphClient(session);
    const first = await a.waitFor('session:connected');
    assert.equal(first.session_id, session);
    assert.equal(first.client_count, 1);
    assert.ok(isTs(first.timestamp));
    const b = await graphClient(session);
    await a.waitFor('session:connected', (d) => d.client_count === 2);
    await b.waitFor('session:connected', (d) => d.client_count === 2);
    await command(session, { command: 'create_node', type: 't', name: 'n' });
    const sessions = (await rest('GET', '/v1/sessions')).json;
    assert.equal(sessions.find((s) => s.id === session).clients, 2);
    b.close();
    const gone = await a.waitFor('session:disconnected');
    assert.deepEqual([gone.session_id, gone.client_count], [session, 1]);
    assert.ok(isTs(gone.timestamp));
  },

  async rooms() {
    const [s1, s2] = [unique('room1'), unique('room2')];
    const a = await graphClient(s1);
    const b = await graphClient(s2);
    await a.waitFor('session:connected');
    await b.waitFor('session:connected');
    const n1 = (await command(s1, { command: 'create_node', type: 't', name: 'in1' })).result.node_id;
    const n2 = (await command(s2, { command: 'create_node', type: 't', name: 'in2' })).result.node_id;
    await a.waitFor('graph:node-created', (d) => d.node_id === n1);
    await b.waitFor('graph:node-created', (d) => d.node_id === n2);
    const c = await graphClient(s2);
    await b.waitFor('session:connected', (d) => d.client_count === 2);
    c.close();
    await b.waitFor('session:disconnected');
    const marker = (await command(s1, { command: 'create_node', type: 't', name: 'end' })).result.node_id;
    await a.waitFor('graph:node-created', (d) => d.node_id === marker);
    for (const [e, d] of a.events) {
      const text = JSON.stringify(d);
      assert.ok(!text.includes(n2) && !text.includes(s2), `${e} ${text}`);
    }
    for (const [e, d] of b.events) {
      const text = JSON.stringify(d);
      assert.ok(!text.includes(n1) && !text.includes(marker), `${e} ${text}`);
    }
  },

  async graph_fields() {
    const s = unique('fields');
    const rec = await graphClient(s);
    await rec.waitFor('session:connected');
    const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
    const expect = async (event, seq, fields, values = {}) => {
      const data = await rec.waitFor(event, (d) => d.seq === seq &&
        Object.entries(values).every(([k, v]) => same(d[k], v)));
      checkStamped(data);
      assert.deepEqual(Object.keys(data).sort(), [...fields, 'timestamp', 'seq'].sort(), `${event} ${JSON.stringify(data)}`);
      return data;
    };
    const executed = async (answer, commandType) => {
      await expect('command:executing', answer.seq, ['command_id', 'command_type'],
                   { command_id: answer.command_id, command_type: commandType });
      const data = await rec.waitFor('command:executed', (d) => d.command_id === answer.command_id);
      checkStamped(data);
      assert.equal(data.seq, answer.seq);
      assert.equal(data.command_type, commandType);
      for (const k of Object.keys(data))
        assert.ok(['command_id', 'command_type', 'result', 'timestamp', 'seq'].includes(k), k);
      return data;
    };
    const created = ['node_id', 'name', 'blueprint_type_id', 'parent_id'];
    const changed = ['node_id', 'property_id', 'old_value', 'new_value'];

    const a = await command(s, { command: 'create_node', type: 'task', name: 'A' });
    const na = a.result.node_id;
    await expect('graph:node-created', a.seq, created, { node_id: na, name: 'A', blueprint_type_id: 'task', parent_id: null });
    assert.deepEqual((await executed(a, 'create_node')).result, { node_id: na });
    const b = await command(s, { command: 'create_node', type: 'step', name: 'B', parent_id: na });
    await expect('graph:node-created', b.seq, created,
                 { node_id: b.result.node_id, name: 'B', blueprint_type_id: 'step', parent_id: na });
    const nc = (await command(s, { command: 'create_node', type: 'step', name: 'C' })).result.node_id;
    const link = await command(s, { command: 'link', parent_id: na, child_id: nc });
    await expect('graph:node-linked', link.seq, ['parent_id', 'child_id'], { parent_id: na, child_id: nc });
    await executed(link, 'link');
    const unlink = await command(s, { command: 'unlink', parent_id: na, child_id: nc });
    await expect('graph:node-unlinked', unlink.seq, ['parent_id', 'child_id'], { parent_id: na, child_id: nc });
    const p1 = await command(s, { command: 'set_property', node_id: na, property: 'color', value: 'red' });
    await expect('graph:property-changed', p1.seq, changed,
                 { node_id: na, property_id: 'color', old_value: null, new_value: 'red' });
    await executed(p1, 'set_property');
    const p2 = await command(s, { command: 'set_property', node_id: na, property: 'color', value: { rgb: [1, 2, 3] } });
    await expect('graph:property-changed', p2.seq, changed,
                 { node_id: na, property_id: 'color', old_value: 'red', new_value: { rgb: [1, 2, 3] } });
    const undo = await rest('POST', `/v1/sessions/${s}/undo`, {});
    assert.equal(undo.status, 200, undo.text);
    await expect('command:undo', undo.json.seq, ['command_id'], { command_id: p2.command_id });
    await expect('graph:property-changed', undo.json.seq, changed,
                 { node_id: na, property_id: 'color', old_value: { rgb: [1, 2, 3] }, new_value: 'red' });
    const redo = await rest('POST', `/v1/sessions/${s}/redo`, {});
    assert.equal(redo.status, 200, redo.text);
    await expect('command:redo', redo.json.seq, ['command_id'], { command_id: p2.command_id });
    await expect('graph:property-changed', redo.json.seq, changed,
                 { node_id: na, property_id: 'color', old_value: 'red', new_value: { rgb: [1, 2, 3] } });
    const pd = await command(s, { command: 'delete_property', node_id: na, property: 'color' });
    await expect('graph:property-deleted', pd.seq, ['node_id', 'property_id'], { node_id: na, property_id: 'color' });
    assert.equal((await rest('POST', `/v1/sessions/${s}/saves`, { name: 'v1' })).status, 200);
    const saved = await rec.waitFor('project:saved', (d) => d.project_id === 'v1');
    checkStamped(saved);
    assert.deepEqual(Object.keys(saved).sort(), ['project_id', 'seq', 'timestamp']);
    const dn = await command(s, { command: 'delete_node', node_id: nc });
    await expect('graph:node-deleted', dn.seq, ['node_id'], { node_id: nc });
    await executed(dn, 'delete_node');
    const restore = await rest('POST', `/v1/sessions/${s}/restore`, { name: 'v1' });
    assert.equal(restore.status, 200, restore.text);
    const loaded = await expect('project:loaded', restore.json.seq, ['project_id', 'graph'], { project_id: 'v1' });
    assert.deepEqual(loaded.graph, (await rest('GET', `/v1/sessions/${s}/graph`)).json);
    const bySeq = await rest('POST', `/v1/sessions/${s}/restore`, { seq: a.seq });
    assert.equal(bySeq.status, 200, bySeq.text);
    const loaded2 = await expect('project:loaded', bySeq.json.seq, ['project_id', 'graph'], { project_id: `seq:${a.seq}` });
    assert.deepEqual(loaded2.graph.nodes.map((n) => n.id), [na]);
    const cid = crypto.randomUUID();
    const refused = await rest('POST', `/v1/sessions/${s}/commands`,
                               { command: 'delete_node', node_id: crypto.randomUUID(), command_id: cid });
    assert.equal(refused.status, 404, refused.text);
    const failed = await rec.waitFor('command:failed', (d) => d.command_id === cid);
    assert.equal(failed.command_type, 'delete_node');
    assert.ok(failed.error);
    assert.ok(isTs(failed.timestamp));
    const old = await rest('POST', '/api/v1/commands/execute', { command: 'create_node', type: 'old', name: 'legacy' },
                           { 'X-Session-ID': s });
    assert.equal(old.status, 200, old.text);
    await rec.waitFor('graph:node-created', (d) => d.name === 'legacy' && d.seq === old.json.seq);
  },

  async from_seq() {
    const [s, other] = [unique('resume'), unique('other')];
    const witness = await graphClient(s);
    await witness.waitFor('session:connected');
    const first = await command(s, { command: 'create_node', type: 't', name: 'before' });
    const a = await graphClient(s);
    await a.waitFor('session:connected');
    const mine = await command(s, { command: 'create_node', type: 't', name: 'seen' });
    await a.waitFor('command:executed', (d) => d.command_id === mine.command_id);
    const lastSeen = Math.max(...logged(a).map((e) => e[1]));
    a.close();
    const missed = [];
    for (let i = 0; i < 5; ++i) {
      missed.push(await command(s, { command: 'create_node', type: 't', name: `m${i}` }));
      await command(other, { command: 'create_node', type: 't', name: `x${i}` });
    }
    await witness.waitFor('command:executed', (d) => d.command_id === missed[4].command_id);
    const back = await graphClient(s, { from_seq: lastSeen + 1 });
    await back.waitFor('command:executed', (d) => d.command_id === missed[4].command_id);
    const live = await command(s, { command: 'create_node', type: 't', name: 'live' });
    await back.waitFor('command:executed', (d) => d.command_id === live.command_id);
    await witness.waitFor('command:executed', (d) => d.command_id === live.command_id);
    const got = logged(back);
    assert.deepEqual(got, logged(witness).filter((e) => e[1] > lastSeen));
    assert.deepEqual([...new Set(got.map((e) => e[1]))].sort((x, y) => x - y),
                     [...missed.map((m) => m.seq), live.seq].sort((x, y) => x - y));
    assert.ok(!got.some((e) => e[1] === first.seq));
  },

  async crowd() {
    const s = unique('crowd');
    const clients = [];
    for (let i = 0; i < 200; ++i) clients.push(graphClient(s));
    const all = await Promise.all(clients);
    assert.ok(await until(() => all.some((c) => c.all('session:connected').some((d) => d.client_count === 200))));
    const ids = [];
    for (let i = 0; i < 20; ++i) ids.push((await command(s, { command: 'create_node', type: 't', name: `e${i}` })).result.node_id);
    for (const c of all) {
      const got = await c.waitCount((e) => e === 'graph:node-created', 20, 60000);
      assert.deepEqual(got.map(([, d]) => d.node_id), ids);
    }
  },
};

async function main() {
  const run = scenarios[scenario];
  if (!run) {
    console.error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(' ')}`);
    process.exit(2);
  }
  let code = 0;
  try {
    await run();
    console.log(`ok ${scenario} (${mode})`);
  } catch (err) {
    console.error(`FAIL ${scenario} (${mode}): ${err.stack || err}`);
    code = 1;
  }
  for (const rec of open) rec.close();
  process.exit(code);
}

main();
