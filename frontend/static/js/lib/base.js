// Small helpers shared by the page modules: DOM building, the CSRF token, JSON fetches.
// Untrusted text only ever goes into textContent or attribute values, never into HTML.
import { locale, t } from "./i18n.js";

/** el("p", {class: "x"}, "text", child) -> HTMLElement. `null`/`false` attributes are skipped. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/**
 * fetch + JSON. Never throws for HTTP errors: {ok, status, body, networkError}.
 * A network failure gives {ok: false, status: 0, networkError: true}.
 */
export async function fetchJson(url, options = {}) {
  const init = { credentials: "same-origin", cache: "no-store", ...options, headers: { accept: "application/json", "accept-language": locale, ...(options.headers || {}) } };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers["content-type"] = "application/json";
    delete init.json;
  }
  if (init.method && init.method !== "GET" && init.credentials !== "omit") init.headers["x-csrf-token"] = csrfToken();
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { ok: false, status: 0, body: null, networkError: true };
  }
  let body = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  return { ok: response.ok, status: response.status, body, headers: response.headers };
}

/** A wave's status as the API names it (draft, open, closed), in the reader's language. */
export function waveStatus(status) {
  return { draft: t("draft"), open: t("open"), closed: t("closed") }[status] || status;
}

/** A person-readable sentence for a failed fetchJson result. */
export function problemText(result, fallback = t("Something went wrong.")) {
  if (result.networkError) return t("Could not reach the server. Check your connection and try again.");
  if (result.status === 401) return t("Your session has ended. Sign in again.");
  if (result.body && result.body.detail) return result.body.detail;
  return `${fallback} (HTTP ${result.status})`;
}

export function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error("not hex");
  return Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Today's date as YYYY-MM-DD, local time. Dates only: nothing here needs a time of day. */
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Replace a container's content. */
export function show(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

/** Split a long key id so it wraps readably: "ab12 cd34 …". */
export function groupHex(hex) {
  return (hex || "").replace(/(.{8})/g, "$1 ").trim();
}

// Signing out deletes this browser's answers in progress (lib/store.js `drafts`): the next
// person to use this browser must not find them. Every page with a module imports this one,
// so the header's sign-out form is covered wherever it is pressed. Sign-out waits at most a
// moment for the deletion and then goes ahead regardless.
function clearDraftsOnSignOut() {
  const form = typeof document !== "undefined" && document.querySelector("form.signout");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    if (form.dataset.draftsCleared) return;
    event.preventDefault();
    const proceed = () => { form.dataset.draftsCleared = "true"; form.requestSubmit(); };
    const timer = setTimeout(proceed, 1500);
    import("./store.js").then(({ drafts }) => drafts.clear()).catch(() => {}).finally(() => {
      clearTimeout(timer);
      if (!form.dataset.draftsCleared) proceed();
    });
  });
}
clearDraftsOnSignOut();
