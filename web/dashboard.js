// /dashboard: every model version (state, engine, input, labels, model-card metrics) from
// GET /models, the card route and the state gauge; live inputs/s, p50/p99 latency and queue
// depth per model from GET /metrics, charted with uPlot (served from node_modules). Refreshed
// every few seconds (?refresh=N seconds), so a version dropped into the store appears unasked.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api, el, problemDetail, setUpKeyBox } from './common.js';
import { bucketsByModel, parseMetrics, quantileBetween, sumByModel } from './metrics.js';

const REFRESH_SECONDS = Math.max(1, Number(new URLSearchParams(location.search).get('refresh')) || 3);
const HISTORY = 60; // points kept per chart
const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#0a7ea4', '#bc4c00', '#57606a'];

const statusLine = document.getElementById('status');
const modelRows = document.querySelector('#models tbody');
const liveRows = document.querySelector('#live tbody');

// ---- the models table -----------------------------------------------------------------------------
const cards = new Map(); // "name/version" -> card (or a promise of it)

function percent(v) {
  return v === undefined || v === null ? '' : `${(v * 100).toFixed(1)}%`;
}

/** The confusion matrix as a grid of shaded cells (rows: true class, columns: predicted). */
function confusionCanvas(labels, matrix) {
  const cell = Math.max(14, Math.min(28, Math.floor(320 / labels.length)));
  const canvas = el('canvas', { width: cell * labels.length, height: cell * labels.length, role: 'img' });
  canvas.setAttribute('aria-label', `Confusion matrix, ${labels.length} classes: rows are the true class, columns the predicted one`);
  const ctx = canvas.getContext('2d');
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const share = count / total;
      ctx.fillStyle = i === j ? `rgba(26,127,55,${0.15 + 0.85 * share})` : `rgba(209,36,47,${share === 0 ? 0.03 : 0.2 + 0.8 * share})`;
      ctx.fillRect(j * cell, i * cell, cell - 1, cell - 1);
    });
  });
  return canvas;
}

function cardCell(card, labels) {
  const td = el('td');
  if (!card) return td;
  const m = card.metrics;
  if (!m) {
    td.append(el('span', { class: 'muted', textContent: 'no metrics recorded' }));
    return td;
  }
  const headline = `${percent(m.accuracy)} ${m.split}${m.examples ? ` (${m.examples} examples)` : ''}${m.microF1 !== undefined ? `, micro F1 ${m.microF1.toFixed(3)}` : ''}`;
  td.append(el('span', { textContent: headline }));
  if (m.perClass.length > 0 || m.confusion) {
    const rows = m.perClass.map((c) =>
      el('tr', {}, el('td', { textContent: c.label }), el('td', { class: 'num', textContent: percent(c.accuracy ?? c.recall) }), el('td', { class: 'num', textContent: c.f1 === undefined ? '' : c.f1.toFixed(3) })),
    );
    const details = el(
      'details',
      {},
      el('summary', { textContent: 'per class' }),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', { textContent: 'class' }), el('th', { textContent: 'accuracy (recall)' }), el('th', { textContent: 'F1' }))), el('tbody', {}, ...rows)),
    );
    if (m.confusion) details.append(el('p', { class: 'muted', textContent: 'Confusion matrix (rows: true, columns: predicted):' }), confusionCanvas(labels, m.confusion));
    td.append(details);
  }
  return td;
}

async function cardOf(name, version) {
  const key = `${name}/${version}`;
  if (!cards.has(key)) {
    cards.set(
      key,
      api(`/models/${encodeURIComponent(name)}/versions/${version}/card`).then((res) => (res.ok ? res.json() : null)),
    );
  }
  return cards.get(key);
}

function labelsText(labels) {
  return labels.length <= 6 ? labels.join(', ') : `${labels.slice(0, 5).join(', ')}, ... (${labels.length})`;
}

async function renderModels(models, states) {
  // Versions the server knows but does not serve (loading, failed) come from the state gauge.
  const served = new Set(models.map((m) => `${m.name}/${m.version}`));
  const others = [...states].filter(([key, state]) => !served.has(key) && state !== 'AVAILABLE').map(([key, state]) => ({ key, state }));
  const rows = await Promise.all(
    models
      .slice()
      .sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version)
      .map(async (m) => {
        const state = states.get(`${m.name}/${m.version}`) ?? 'AVAILABLE';
        return el(
          'tr',
          { 'data-model': m.name, 'data-version': String(m.version) },
          el('th', { scope: 'row', textContent: m.name }),
          el('td', { class: 'num', textContent: String(m.version) }),
          el('td', { class: `state-${state}`, textContent: state }),
          // engine: { name: onnx | tfjs, platform, reason } (api/models.yaml EngineChoice); the reason on hover.
          el('td', { textContent: m.engine.name, title: m.engine.reason }),
          el('td', { textContent: `[${m.input.shape.join(', ')}] ${m.preprocessing.recipe}` }),
          el('td', { textContent: m.output.kind }),
          el('td', { textContent: labelsText(m.labels) }),
          cardCell(await cardOf(m.name, m.version), m.labels),
        );
      }),
  );
  for (const { key, state } of others) {
    const [name, version] = key.split('/');
    rows.push(el('tr', { 'data-model': name, 'data-version': version }, el('th', { scope: 'row', textContent: name }), el('td', { class: 'num', textContent: version }), el('td', { class: `state-${state}`, textContent: state })));
  }
  // Keep the open "per class" panels open across refreshes.
  const open = new Set([...modelRows.querySelectorAll('details[open]')].map((d) => d.closest('tr').dataset.model + '/' + d.closest('tr').dataset.version));
  modelRows.replaceChildren(...rows);
  for (const row of rows) if (open.has(`${row.dataset.model}/${row.dataset.version}`)) row.querySelector('details')?.setAttribute('open', '');
}

// ---- live metrics -----------------------------------------------------------------------------------
let previous = null; // { at, inputs, buckets }
const history = { times: [], rate: new Map(), p99: new Map(), queue: new Map() };
const charts = {};

function chartFor(id, title, names, data) {
  const target = document.getElementById(id);
  const existing = charts[id];
  if (existing && existing.names.join() === names.join()) {
    existing.plot.setData(data);
    return;
  }
  existing?.plot.destroy();
  const opts = {
    width: 400,
    height: 200,
    title,
    scales: { x: { time: true } },
    series: [{}, ...names.map((name, i) => ({ label: name, stroke: COLOURS[i % COLOURS.length], width: 2, spanGaps: true }))],
    axes: [{}, { size: 50 }],
  };
  charts[id] = { names, plot: new uPlot(opts, data, target) };
}

function series(map, names) {
  return names.map((name) => map.get(name) ?? []);
}

function push(map, name, value) {
  const values = map.get(name) ?? new Array(history.times.length - 1).fill(null);
  values.push(value);
  map.set(name, values.slice(-HISTORY));
}

function renderLive(samples, names) {
  const at = Date.now() / 1000;
  const inputs = sumByModel(samples, 'specserve_inference_inputs_total');
  const buckets = bucketsByModel(samples, 'specserve_inference_latency_seconds');
  const queue = sumByModel(samples, 'specserve_inference_queue_depth');
  history.times.push(at);
  history.times = history.times.slice(-HISTORY);
  const rows = [];
  for (const name of names) {
    const seconds = previous ? at - previous.at : 0;
    const rate = previous && seconds > 0 ? Math.max(0, ((inputs.get(name) ?? 0) - (previous.inputs.get(name) ?? 0)) / seconds) : null;
    const after = buckets.get(name);
    const before = previous?.buckets.get(name);
    const p50 = after && previous ? quantileBetween(0.5, before, after) : null;
    const p99 = after && previous ? quantileBetween(0.99, before, after) : null;
    push(history.rate, name, rate);
    push(history.p99, name, p99 === null ? null : p99 * 1000);
    push(history.queue, name, queue.get(name) ?? 0);
    const ms = (v) => (v === null ? '-' : `${(v * 1000).toFixed(1)} ms`);
    rows.push(
      el(
        'tr',
        { 'data-model': name },
        el('th', { scope: 'row', textContent: name }),
        el('td', { class: 'num', textContent: rate === null ? '-' : rate.toFixed(1) }),
        el('td', { class: 'num', textContent: ms(p50) }),
        el('td', { class: 'num', textContent: ms(p99) }),
        el('td', { class: 'num', textContent: String(queue.get(name) ?? 0) }),
      ),
    );
  }
  liveRows.replaceChildren(...rows);
  previous = { at, inputs, buckets };
  const times = history.times;
  const align = (values) => values.slice(-times.length);
  chartFor('chart-rate', 'inputs/s', names, [times, ...series(history.rate, names).map(align)]);
  chartFor('chart-p99', 'p99 latency (ms)', names, [times, ...series(history.p99, names).map(align)]);
  chartFor('chart-queue', 'queue depth', names, [times, ...series(history.queue, names).map(align)]);
}

// ---- the refresh loop -----------------------------------------------------------------------------------
function versionStates(samples) {
  const states = new Map();
  for (const s of samples) if (s.name === 'specserve_model_version_state' && s.value === 1) states.set(`${s.labels.model}/${s.labels.version}`, s.labels.state);
  return states;
}

async function refresh() {
  const [modelsRes, metricsRes] = await Promise.all([api('/models'), api('/metrics')]);
  if (!modelsRes.ok) {
    statusLine.textContent = `GET /models: ${await problemDetail(modelsRes)}`;
    statusLine.className = 'error';
    return;
  }
  const { models } = await modelsRes.json();
  const samples = metricsRes.ok ? parseMetrics(await metricsRes.text()) : [];
  await renderModels(models, versionStates(samples));
  const names = [...new Set(models.map((m) => m.name))].sort();
  if (metricsRes.ok) renderLive(samples, names);
  statusLine.textContent = `${models.length} model versions served; updated ${new Date().toLocaleTimeString()} (every ${REFRESH_SECONDS} s).${metricsRes.ok ? '' : ` /metrics: ${await problemDetail(metricsRes)}`}`;
  statusLine.className = 'muted';
}

async function loop() {
  try {
    await refresh();
  } catch (e) {
    statusLine.textContent = `Cannot reach the server: ${e.message}`;
    statusLine.className = 'error';
  }
  setTimeout(loop, REFRESH_SECONDS * 1000);
}

setUpKeyBox(() => {
  cards.clear();
  void refresh();
});
void loop();
