// What both pages share: the API key (kept for this browser tab only) and calls to the server's
// API that carry it. Plain ES module, served as is by the server (no build step).

const KEY_STORAGE = 'specserve.apiKey';

export function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

/**
 * Wires the page's API-key box: hidden until the server answers 401, then shown with the key
 * typed so far; `onChange` runs when the user enters a key.
 */
export function setUpKeyBox(onChange) {
  const input = document.getElementById('api-key');
  input.value = apiKey();
  input.addEventListener('change', () => {
    sessionStorage.setItem(KEY_STORAGE, input.value.trim());
    onChange();
  });
}

function showKeyBox() {
  const box = document.getElementById('key-box');
  if (box.hidden) {
    box.hidden = false;
    document.getElementById('api-key').focus();
  }
}

/** The problem+json detail of a failed answer, or its status line. */
export async function problemDetail(res) {
  try {
    const body = await res.json();
    if (body && typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${res.status} ${res.statusText}`;
}

/** fetch() on this server with the API key; a 401 reveals the key box. */
export async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = apiKey();
  if (key) headers.set('Authorization', `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) showKeyBox();
  return res;
}

/** Creates an element with properties and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}
