// /demo: draw or choose an image, classify it with a model of this server, and show why
// (the occlusion heatmap of POST /models/{name}/explain).
import { api, el, problemDetail, setUpKeyBox } from './common.js';

const pad = document.getElementById('pad');
const ctx = pad.getContext('2d');
const modelSelect = document.getElementById('model');
const fileInput = document.getElementById('file');
const statusLine = document.getElementById('status');
const topLine = document.getElementById('top');
const bars = document.getElementById('bars');
const latencyLine = document.getElementById('latency');
const heatmap = document.getElementById('heatmap');
const heatmapStatus = document.getElementById('heatmap-status');

/** What Classify sends: the drawing on the pad, or a photo the user gave (sent as it is). */
let photo = null;
let drawn = false;

function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  photo = null;
  drawn = false;
}

// ---- drawing: pointer events cover mouse, touch and pen --------------------------------------
let drawing = false;
function point(event) {
  const box = pad.getBoundingClientRect();
  return [((event.clientX - box.left) * pad.width) / box.width, ((event.clientY - box.top) * pad.height) / box.height];
}
pad.addEventListener('pointerdown', (event) => {
  if (photo) clearPad();
  drawing = true;
  drawn = true;
  pad.setPointerCapture(event.pointerId);
  const [x, y] = point(event);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 20;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + 0.1, y + 0.1);
  ctx.stroke();
});
pad.addEventListener('pointermove', (event) => {
  if (!drawing) return;
  const [x, y] = point(event);
  ctx.lineTo(x, y);
  ctx.stroke();
});
for (const type of ['pointerup', 'pointercancel']) pad.addEventListener(type, () => (drawing = false));

// ---- a photo: chosen, dropped or pasted -------------------------------------------------------
async function usePhoto(file) {
  if (!file || !file.type.startsWith('image/')) {
    statusLine.textContent = 'That is not an image file.';
    return;
  }
  clearPad();
  photo = file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    ctx.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  } catch {
    // The browser cannot show it (e.g. TIFF); the server may still read it.
    ctx.fillStyle = '#fff';
    ctx.font = '16px system-ui';
    ctx.fillText(file.name, 12, 140);
  }
  statusLine.textContent = `${file.name} ready; press Classify.`;
}
fileInput.addEventListener('change', () => usePhoto(fileInput.files[0]));
pad.addEventListener('dragover', (event) => {
  event.preventDefault();
  pad.classList.add('dragging');
});
pad.addEventListener('dragleave', () => pad.classList.remove('dragging'));
pad.addEventListener('drop', (event) => {
  event.preventDefault();
  pad.classList.remove('dragging');
  usePhoto(event.dataTransfer.files[0]);
});
document.addEventListener('paste', (event) => {
  const item = [...event.clipboardData.items].find((i) => i.type.startsWith('image/'));
  if (item) usePhoto(item.getAsFile());
});

/** Each model's input shape, from GET /models (the newest version's wins: it is listed last or alone). */
const inputShapes = new Map();

/**
 * The demo asks for 7 x 7 non-overlapping patches (49 runs of the model, not the server's default
 * 169), so even MobileNet explains in a few seconds on a busy CPU; the heatmap is coarser.
 */
function explainQuery(model) {
  const shape = inputShapes.get(model);
  if (!shape || shape.length < 2) return '';
  const patch = Math.max(1, Math.round(Math.min(shape[0], shape[1]) / 7));
  return `?patch=${patch}&stride=${patch}`;
}

// ---- models -------------------------------------------------------------------------------------
async function loadModels() {
  const res = await api('/models');
  if (!res.ok) {
    statusLine.textContent = `Could not list the models: ${await problemDetail(res)}`;
    statusLine.className = 'error';
    return;
  }
  const { models } = await res.json();
  for (const m of models) inputShapes.set(m.name, m.input.shape);
  const names = [...new Set(models.map((m) => m.name))].sort();
  const chosen = modelSelect.value || (names.includes('mnist') ? 'mnist' : names[0]);
  modelSelect.replaceChildren(...names.map((name) => el('option', { value: name, textContent: name })));
  if (chosen) modelSelect.value = chosen;
  statusLine.className = 'muted';
}

// ---- classify and explain -----------------------------------------------------------------------
function upload() {
  if (photo) return Promise.resolve(photo);
  return new Promise((resolve) => pad.toBlob(resolve, 'image/png'));
}

function formWith(blob) {
  const form = new FormData();
  form.append('file', blob, photo ? photo.name : 'drawing.png');
  return form;
}

function showAnswer({ model, predictions }, ms) {
  const [best] = predictions;
  topLine.textContent = best ? best.label : '';
  bars.replaceChildren(
    ...predictions.map(({ label, score }) => {
      const fill = el('span');
      fill.style.width = `${(score * 100).toFixed(1)}%`;
      return el('li', {}, el('span', { textContent: label }), el('span', { class: 'bar' }, fill), el('span', { class: 'score', textContent: score.toFixed(3) }));
    }),
  );
  statusLine.textContent = `${model.name} version ${model.version} answered.`;
  statusLine.className = 'muted';
  latencyLine.textContent = `Latency: ${ms.toFixed(0)} ms (request to answer, in this browser).`;
}

function asDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function explain(model, blob) {
  heatmap.hidden = true;
  heatmapStatus.textContent = 'Explaining (the model runs once per occluded patch)...';
  const res = await api(`/models/${encodeURIComponent(model)}/explain${explainQuery(model)}`, { method: 'POST', body: formWith(blob), headers: { Accept: 'image/png' } });
  if (!res.ok) {
    heatmapStatus.textContent = `No explanation: ${await problemDetail(res)}`;
    return;
  }
  // A data: URL, which the page's Content-Security-Policy allows for images (blob: it does not).
  heatmap.src = await asDataUrl(await res.blob());
  heatmap.alt = `Heatmap of what ${model} looked at: red where hiding part of its input lowered the answer most`;
  heatmap.dataset.model = model;
  heatmap.hidden = false;
  heatmapStatus.textContent = "Over the model's own input: red where hiding a patch lowered the answer most.";
}

async function classify() {
  const model = modelSelect.value;
  if (!model) return;
  if (!photo && !drawn) {
    statusLine.textContent = 'Draw a digit or choose a photo first.';
    return;
  }
  const blob = await upload();
  heatmap.hidden = true;
  delete heatmap.dataset.model;
  heatmapStatus.textContent = '';
  statusLine.textContent = 'Classifying...';
  statusLine.className = 'muted';
  const started = performance.now();
  const res = await api(`/models/${encodeURIComponent(model)}/classify?top_k=5`, { method: 'POST', body: formWith(blob) });
  const ms = performance.now() - started;
  if (!res.ok) {
    topLine.textContent = '';
    bars.replaceChildren();
    latencyLine.textContent = '';
    statusLine.textContent = await problemDetail(res);
    statusLine.className = 'error';
    return;
  }
  showAnswer(await res.json(), ms);
  await explain(model, blob);
}

document.getElementById('classify').addEventListener('click', () => void classify());
document.getElementById('clear').addEventListener('click', () => {
  clearPad();
  fileInput.value = '';
});
setUpKeyBox(() => void loadModels());
clearPad();
void loadModels();
