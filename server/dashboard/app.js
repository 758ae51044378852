// ctxd dashboard: the live context, a key's history, sessions and their
// graphs, the event log, and time travel (?at=SEQ), all through the public
// API (API.md). Keys and values are user data: they reach the page only as
// text nodes and attribute values, never as markup.
'use strict';

const kRowStep = 500;          // context rows rendered at once ("Show more" adds as many)
const kHistoryPage = 100;      // history entries per request
const kEventRowCap = 2000;     // followed event rows kept in the table
const kGraphNodeCap = 2000;    // graph nodes rendered
const kCellChars = 300;        // characters of a value shown in a table cell
const kRenderDelayMs = 150;    // live updates are rendered at most this often
const kRefreshDelayMs = 400;   // sessions, graph, history and events refreshes on live events
const kReconnectMaxMs = 10000;

const $ = (id) => document.getElementById(id);

// Live state: the context as of `liveSeq`, kept current by the stream.
const live = {
  context: new Map(),
  seq: 0,
  store: null,        // the store id from the stream's hello
  socket: null,
  retryMs: 500,
};

// What the page shows.
const view = {
  at: null,           // time-travel seq, or null when live
  context: live.context,
  keys: [],           // keys of view.context, sorted
  filter: '',
  rows: kRowStep,
  key: null,          // selected key
  session: null,      // selected session
  head: 0,
  token: 0,           // discards answers to superseded time-travel requests
};

// ---- helpers ----

// An element with attributes and children; strings become text nodes.
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === 'class') node.className = value;
    else if (name === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function clip(text, max = kCellChars) {
  return text.length > max ? text.slice(0, max) + '…' : text;
}

function json(value) {
  return value === undefined ? '' : JSON.stringify(value);
}

function showError(message) {
  $('error-text').textContent = message;
  $('error').hidden = false;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
  }
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ApiError(response.status, 'BAD_ANSWER', clip(text, 200));
  }
  if (!response.ok) {
    const error = (body && body.error) || {};
    throw new ApiError(response.status, error.code || 'ERROR', error.message || text);
  }
  return body;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

function atQuery() {
  return view.at === null ? '' : query({ at: view.at });
}

// Calls `fn` once, `delayMs` after the first of a burst of calls.
function debounced(fn, delayMs) {
  let timer = null;
  return () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, delayMs);
  };
}

// Index of the first element of sorted `keys` not less than `key`.
function lowerBound(keys, key) {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedKeys(context) {
  return Array.from(context.keys()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---- the URL: ?at=SEQ&key=K&session=S ----

function readUrl() {
  const params = new URLSearchParams(location.search);
  const at = params.get('at');
  if (at !== null && /^\d+$/.test(at)) view.at = Number(at);
  else if (at !== null) showError(`?at=${at} is not a seq: showing the live state`);
  view.key = params.get('key') || null;
  view.session = params.get('session') || null;
}

function writeUrl() {
  const text = query({ at: view.at, key: view.key, session: view.session });
  history.replaceState(null, '', location.pathname + text);
}

// ---- status and head ----

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = 'status ' + kind;
}

function showStatus() {
  if (view.at !== null) setStatus(`time travel: seq ${view.at}`, 'past');
  else if (live.socket && live.socket.readyState === WebSocket.OPEN) setStatus('live', 'live');
  else setStatus('reconnecting', 'reconnecting');
}

function setHead(seq) {
  if (seq <= view.head) return;
  view.head = seq;
  $('head').textContent = String(seq);
  const range = $('at-range');
  range.max = String(seq);
  if (view.at === null) range.value = String(seq);
}

// ---- context table ----

const scheduleContextRender = debounced(renderContext, kRenderDelayMs);

function visibleKeys() {
  const filter = view.filter.toLowerCase();
  if (!filter) return view.keys;
  return view.keys.filter((key) => key.toLowerCase().includes(filter));
}

function renderContext() {
  const keys = visibleKeys();
  const shown = keys.slice(0, view.rows);
  const body = h('tbody');
  for (const key of shown) {
    const row = h('tr', { class: key === view.key ? 'clickable selected' : 'clickable', title: key },
                  h('td', null, key), h('td', null, clip(json(view.context.get(key)))));
    row.addEventListener('click', () => selectKey(key));
    body.append(row);
  }
  $('ctx-table').tBodies[0].replaceWith(body);
  const total = view.context.size;
  let count = `${total} key${total === 1 ? '' : 's'}`;
  if (view.filter) count += `, ${keys.length} matching`;
  if (shown.length < keys.length) count += `, showing the first ${shown.length} (narrow the filter or show more)`;
  $('ctx-count').textContent = count;
  $('ctx-more').hidden = shown.length >= keys.length;
  $('ctx-mode').textContent = view.at === null ? '' : `at seq ${view.at}`;
  renderKeyValue();
}

// Keeps view.keys sorted while the live context changes under it.
function noteKeyChange(key, present) {
  if (view.context !== live.context) return;
  const index = lowerBound(view.keys, key);
  const found = view.keys[index] === key;
  if (present && !found) view.keys.splice(index, 0, key);
  if (!present && found) view.keys.splice(index, 1);
}

// ---- the selected key: value and history ----

// `stale`: the key changed while a page was loading; read the tail again after it.
const historyState = { entries: [], next: null, loading: false, stale: false, key: null };
const scheduleHistoryTail = debounced(loadHistoryTail, kRefreshDelayMs);

function renderKeyValue() {
  if (view.key === null) return;
  $('key-name').textContent = view.key;
  const value = view.context.get(view.key);
  const where = view.at === null ? 'now' : `at seq ${view.at}`;
  $('key-value').textContent = view.context.has(view.key)
      ? JSON.stringify(value, null, 2)
      : `(no such key ${where})`;
}

function selectKey(key) {
  view.key = key;
  writeUrl();
  renderContext();
  loadHistory();
}

async function loadHistory() {
  const key = view.key;
  historyState.key = key;
  historyState.entries = [];
  historyState.next = null;
  renderHistory();
  await loadHistoryPage(key, 1);
}

async function loadHistoryPage(key, from) {
  historyState.loading = true;
  try {
    const page = await getJson(`/v1/context/${encodeURIComponent(key)}/history` +
                               query({ from, limit: kHistoryPage }));
    if (historyState.key !== key) return;
    // A tail read may overlap the page before it: keep each seq once.
    const entries = historyState.entries;
    const last = entries.length ? entries[entries.length - 1].seq : 0;
    entries.push(...page.entries.filter((entry) => entry.seq > last));
    historyState.next = page.next;
    renderHistory();
  } catch (e) {
    showError(`history of ${key}: ${e.message}`);
  } finally {
    historyState.loading = false;
    if (historyState.stale) scheduleHistoryTail();
  }
}

// After a live change of the selected key: reads the entries after the last one shown.
function loadHistoryTail() {
  historyState.stale = historyState.loading;
  if (historyState.key === null || historyState.next !== null || historyState.loading) return;
  const entries = historyState.entries;
  const from = entries.length ? entries[entries.length - 1].seq + 1 : 1;
  loadHistoryPage(historyState.key, from);
}

// The entry in effect at the time-travel seq (the last one at or before it).
function currentEntrySeq() {
  if (view.at === null) return null;
  let current = null;
  for (const entry of historyState.entries) {
    if (entry.seq <= view.at) current = entry.seq;
  }
  return current;
}

function renderHistory() {
  const body = h('tbody');
  const current = currentEntrySeq();
  for (const entry of historyState.entries) {
    let cls = '';
    if (view.at !== null && entry.seq > view.at) cls = 'future';
    if (entry.seq === current) cls = 'current';
    const seqCell = h('td', { class: 'seq-link', title: 'time travel to this seq' }, entry.seq);
    seqCell.addEventListener('click', () => travelTo(entry.seq));
    body.append(h('tr', { class: cls }, seqCell, h('td', { title: entry.ts }, entry.ts), h('td', null, entry.actor),
                  h('td', null, entry.session || ''), h('td', null, entry.op),
                  h('td', { title: clip(json(entry.value), 2000) }, clip(json(entry.value))),
                  h('td', null, clip(json(entry.old)))));
  }
  $('history-table').tBodies[0].replaceWith(body);
  $('history-more').hidden = historyState.next === null;
}

// ---- sessions and the selected session's graph ----

const scheduleSessions = debounced(loadSessions, kRefreshDelayMs);
const scheduleGraph = debounced(loadGraph, kRefreshDelayMs);

async function loadSessions() {
  try {
    renderSessions(await getJson('/v1/sessions'));
  } catch (e) {
    showError(`sessions: ${e.message}`);
  }
}

function renderSessions(sessions) {
  const body = h('tbody');
  for (const s of sessions) {
    const row = h('tr', { class: s.id === view.session ? 'clickable selected' : 'clickable' },
                  h('td', { title: s.id }, s.id), h('td', null, s.nodes), h('td', null, s.edges),
                  h('td', null, s.undo_depth), h('td', null, s.redo_depth), h('td', null, s.clients),
                  h('td', null, s.last_seq));
    row.addEventListener('click', () => selectSession(s.id));
    body.append(row);
  }
  $('sessions-table').tBodies[0].replaceWith(body);
}

function selectSession(session) {
  view.session = session;
  writeUrl();
  loadSessions();
  loadGraph();
}

async function loadGraph() {
  const session = view.session;
  if (session === null) return;
  const token = view.token;
  $('graph-name').textContent = session;
  $('graph-mode').textContent = view.at === null ? '' : `at seq ${view.at}`;
  try {
    const graph = await getJson(`/v1/sessions/${encodeURIComponent(session)}/graph` + atQuery());
    if (token === view.token && session === view.session) renderGraph(graph);
  } catch (e) {
    if (token !== view.token || session !== view.session) return;
    renderGraph({ nodes: [] });
    $('graph-count').textContent = e.status === 404 ? 'no such session at this seq' : e.message;
  }
}

function renderGraph(graph) {
  const nodes = new Map(graph.nodes.map((node) => [node.id, node]));
  const roots = graph.nodes.filter((node) => !(node.parents || []).some((id) => nodes.has(id)));
  let budget = kGraphNodeCap;
  const onPath = new Set();
  const addNode = (list, node) => {
    if (budget-- <= 0) return;
    const props = Object.entries(node.props || {}).map(([name, value]) => `${name}=${clip(json(value), 80)}`);
    const item = h('li', null, h('span', { class: 'node-name' }, node.name), ' ',
                   h('span', { class: 'node-type' }, node.type), ' ',
                   h('code', { class: 'node-id' }, node.id),
                   props.length ? h('div', { class: 'node-props' }, props.join('  ')) : null);
    list.append(item);
    const children = (node.children || []).filter((id) => nodes.has(id) && !onPath.has(id));
    if (!children.length) return;
    const sub = h('ul');
    item.append(sub);
    onPath.add(node.id);
    for (const id of children) addNode(sub, nodes.get(id));
    onPath.delete(node.id);
  };
  const tree = h('ul');
  for (const root of roots) addNode(tree, root);
  $('graph-tree').replaceChildren(tree);
  let count = `${graph.nodes.length} node${graph.nodes.length === 1 ? '' : 's'}`;
  if (graph.seq !== undefined) count += ` as of seq ${graph.seq}`;
  if (budget < 0) count += `, the first ${kGraphNodeCap} shown`;
  $('graph-count').textContent = count;
}

// ---- the event log ----

// `last`: the seq the next followed read starts after; `shown`: the last seq in the table;
// `generation` changes with the filters, so that a read for the old ones is dropped.
const eventsState = { rows: 0, next: null, last: 0, shown: 0, params: null, loading: false, generation: 0 };
const scheduleEventsTail = debounced(loadEventsTail, kRefreshDelayMs);

function eventsForm() {
  const form = $('events-form');
  const field = (name) => form.elements[name].value.trim();
  const limit = field('limit') || '50';
  let from = field('from');
  if (!from) from = String(Math.max(1, view.head - Number(limit) + 1));
  return { from, limit, session: field('session'), actor: field('actor'), type: field('type'), key: field('key') };
}

function summarize(change) {
  switch (change.op) {
    case 'ctx.put': return `${change.key} = ${clip(json(change.value), 120)}`;
    case 'ctx.del': return `delete ${change.key}`;
    case 'node.add': return `+node ${change.name} (${change.type}) ${change.node}`;
    case 'node.remove': return `-node ${change.name} ${change.node}`;
    case 'edge.add': return `+edge ${change.parent} -> ${change.child}`;
    case 'edge.remove': return `-edge ${change.parent} -> ${change.child}`;
    case 'prop.put': return `${change.node}.${change.name} = ${clip(json(change.value), 120)}`;
    case 'prop.del': return `delete ${change.node}.${change.name}`;
    default: return change.op;
  }
}

const kSummarizedChanges = 8;  // changes spelled out per event row

function eventRow(event) {
  const changes = event.changes || [];
  const parts = changes.slice(0, kSummarizedChanges).map(summarize);
  if (changes.length > kSummarizedChanges) parts.push(`… ${changes.length} changes in all`);
  if (event.undoes !== undefined) parts.unshift(`undoes ${event.undoes}`);
  if (event.redoes !== undefined) parts.unshift(`redoes ${event.redoes}`);
  if (event.label !== undefined) parts.unshift(`save "${event.label}"`);
  const seqCell = h('td', { class: 'seq-link', title: 'time travel to this seq' }, event.seq);
  seqCell.addEventListener('click', () => travelTo(event.seq));
  return h('tr', null, seqCell, h('td', { title: event.ts }, event.ts), h('td', null, event.type),
           h('td', null, event.actor),
           h('td', null, event.session || ''), h('td', null, clip(parts.join('; '), 1000)));
}

async function loadEvents(params, append) {
  const generation = eventsState.generation;
  eventsState.loading = true;
  let read = false;
  try {
    const page = await getJson('/v1/events' + query(params));
    if (generation !== eventsState.generation) return;
    const body = $('events-table').tBodies[0];
    if (!append) {
      body.replaceChildren();
      eventsState.rows = 0;
      eventsState.shown = 0;
    }
    const events = page.events.filter((event) => event.seq > eventsState.shown);
    for (const event of events) body.append(eventRow(event));
    if (events.length) eventsState.shown = events[events.length - 1].seq;
    eventsState.rows += events.length;
    while (eventsState.rows > kEventRowCap) {
      body.firstChild.remove();
      eventsState.rows--;
    }
    eventsState.next = page.next;
    // The next page starts at `next`; at the head, after the head read.
    eventsState.last = page.next === null ? page.head : page.next - 1;
    setHead(page.head);
    $('events-next').hidden = page.next === null;
    read = true;
  } catch (e) {
    showError(`events: ${e.message}`);
  } finally {
    eventsState.loading = false;
    // Live events that arrived while this page was read.
    if (read && eventsState.last < live.seq) scheduleEventsTail();
  }
}

function showEvents() {
  eventsState.generation++;
  eventsState.params = eventsForm();
  loadEvents(eventsState.params, false);
}

function loadEventsNext() {
  if (eventsState.next === null) return;
  loadEvents({ ...eventsState.params, from: eventsState.next }, true);
}

// Following: after live events, reads what the filters let through since the last page.
function loadEventsTail() {
  if (!$('events-form').elements.follow.checked) return;
  if (eventsState.params === null || eventsState.next !== null || eventsState.loading) return;
  loadEvents({ ...eventsState.params, from: eventsState.last + 1 }, true);
}

// ---- the live stream (WebSocket /v1/ws, from the seq of the snapshot) ----

async function loadLive() {
  const snapshot = await getJson('/v1/context');
  live.context = new Map(Object.entries(snapshot.context));
  live.seq = snapshot.seq;
  setHead(snapshot.seq);
  if (view.at === null) {
    view.context = live.context;
    view.keys = sortedKeys(live.context);
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/v1/ws${query({ from: live.seq + 1 })}`);
  live.socket = socket;
  socket.onopen = () => {
    live.retryMs = 500;
    showStatus();
  };
  socket.onmessage = (message) => onStreamMessage(JSON.parse(message.data));
  socket.onclose = () => {
    if (live.socket !== socket) return;
    live.socket = null;
    showStatus();
    setTimeout(connect, live.retryMs);
    live.retryMs = Math.min(live.retryMs * 2, kReconnectMaxMs);
  };
}

function onStreamMessage(message) {
  if (message.op === 'hello') return onHello(message);
  if (message.op === 'event') applyEvent(message.event);
}

// A different store (or one that lost its tail) behind the same address: start over.
function onHello(hello) {
  const changed = live.store !== null && (hello.store !== live.store || hello.head < live.seq);
  live.store = hello.store;
  setHead(hello.head);
  if (!changed) return;
  live.socket.onclose = null;
  live.socket.close();
  live.socket = null;
  view.head = 0;
  start();
}

function applyEvent(event) {
  if (event.seq <= live.seq) return;
  let touchesKey = false;
  for (const change of event.changes || []) {
    if (change.op === 'ctx.put') {
      live.context.set(change.key, change.value);
      noteKeyChange(change.key, true);
    } else if (change.op === 'ctx.del') {
      live.context.delete(change.key);
      noteKeyChange(change.key, false);
    }
    if (change.key !== undefined && change.key === view.key) touchesKey = true;
  }
  live.seq = event.seq;
  setHead(event.seq);
  if (view.at === null) scheduleContextRender();
  if (touchesKey) scheduleHistoryTail();
  if (event.session !== undefined) {
    scheduleSessions();
    if (event.session === view.session && view.at === null) scheduleGraph();
  }
  scheduleEventsTail();
}

// ---- time travel ----

async function travelTo(seq) {
  view.at = seq;
  const token = ++view.token;
  $('at-input').value = String(seq);
  $('at-range').value = String(seq);
  writeUrl();
  showStatus();
  try {
    const snapshot = await getJson('/v1/context' + query({ at: seq }));
    if (token !== view.token) return;
    view.context = new Map(Object.entries(snapshot.context));
    view.keys = sortedKeys(view.context);
    renderContext();
    renderHistory();
  } catch (e) {
    if (token === view.token) showError(`context at seq ${seq}: ${e.message}`);
  }
  loadGraph();
}

function goLive() {
  view.at = null;
  view.token++;
  view.context = live.context;
  view.keys = sortedKeys(live.context);
  $('at-input').value = '';
  $('at-range').value = String(view.head);
  writeUrl();
  showStatus();
  renderContext();
  renderHistory();
  loadGraph();
}

const travelToRange = debounced(() => travelTo(Number($('at-range').value)), kRenderDelayMs);

function wireControls() {
  $('travel').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('at-input').value.trim();
    if (/^\d+$/.test(text)) travelTo(Number(text));
    else if (text === '') goLive();
    else showError(`'${text}' is not a seq`);
  });
  $('at-range').addEventListener('input', () => {
    $('at-input').value = $('at-range').value;
    travelToRange();
  });
  $('at-live').addEventListener('click', goLive);
  $('error-close').addEventListener('click', () => {
    $('error').hidden = true;
  });
  $('ctx-filter').addEventListener('input', () => {
    view.filter = $('ctx-filter').value;
    view.rows = kRowStep;
    scheduleContextRender();
  });
  $('ctx-more').addEventListener('click', () => {
    view.rows += kRowStep;
    renderContext();
  });
  $('history-more').addEventListener('click', () => {
    if (historyState.next !== null && !historyState.loading) loadHistoryPage(historyState.key, historyState.next);
  });
  $('events-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showEvents();
  });
  $('events-next').addEventListener('click', loadEventsNext);
}

// ---- start ----

async function start() {
  try {
    await loadLive();
  } catch (e) {
    setStatus('failed', 'failed');
    showError(`context: ${e.message}; retrying`);
    setTimeout(start, live.retryMs);
    live.retryMs = Math.min(live.retryMs * 2, kReconnectMaxMs);
    return;
  }
  connect();
  if (view.at !== null) await travelTo(view.at);
  else goLive();
  if (view.key !== null) loadHistory();
  loadSessions();
  showEvents();
  document.body.dataset.ready = '1';
}

readUrl();
wireControls();
start();
