// Follow a thread with its secret alone: read, reply, resolve or reopen, consent to the
// public board. Every request omits cookies; the secret travels in a header only.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { findIdentifying } from "../lib/threads-identify.js";
import { messageList, statusLine } from "../lib/threads-render.js";
import { authorization, normaliseSecret } from "../lib/threads-secret.js";
import { keptThreads } from "../lib/store.js";

const kept = document.getElementById("kept");
const container = document.getElementById("thread");
const secretForm = document.getElementById("secret-form");
const secretInput = document.getElementById("secret-input");

function call(method, path, secret, json) {
  return fetchJson(`/anon/threads/by-secret${path}`, { method, credentials: "omit", json,
                                                       headers: { authorization: authorization(secret) } });
}

async function listKept() {
  const threads = (await keptThreads.all()).sort((a, b) => (b.openedOn || "").localeCompare(a.openedOn || ""));
  if (!threads.length) return show(kept, el("p", { class: "muted" }, "No thread is kept in this browser."));
  show(kept, el("ul", { class: "cards" }, threads.map((t) => el("li", { class: "card" },
    el("h3", {}, t.title || "Thread"),
    el("p", { class: "muted" }, `${t.service || ""} · opened ${t.openedOn || "?"}`),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => openThread(t.secret) }, `Open “${t.title || "thread"}”`),
      el("button", { type: "button", class: "secondary", onclick: async () => { await keptThreads.remove(t.threadId); listKept(); } },
        "Forget in this browser"))))));
}

async function openThread(secret, { keep = false } = {}) {
  show(container, el("p", { class: "muted", role: "status" }, "Opening…"));
  const got = await call("GET", "", secret);
  if (!got.ok) {
    const text = got.status === 401 ? "No thread opens with this secret. Check the twelve words." : problemText(got);
    return show(container, el("p", { class: "alert", role: "alert" }, text));
  }
  if (keep || (await keptThreads.get(got.body.thread_id))) {
    await keptThreads.put({ threadId: got.body.thread_id, secret, title: got.body.title, service: got.body.service.name, openedOn: got.body.opened_on });
    listKept();
  }
  render(got.body, secret);
}

function render(thread, secret) {
  const replyBody = el("textarea", { id: "reply-body", rows: 5, maxlength: 10000, required: true });
  const status = el("div", { "aria-live": "polite" });
  let confirmed = null;
  const replyForm = el("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const text = replyBody.value.trim();
    if (!text) return show(status, el("p", { class: "alert", role: "alert" }, "Write your reply first."));
    const findings = findIdentifying(text);
    if (findings.length && confirmed !== text) {
      confirmed = text;
      return show(status, el("div", { class: "alert", role: "alert" },
        el("p", {}, "This may identify you — nothing has been sent:"),
        el("ul", {}, findings.map((f) => el("li", {}, `${f.kind}: “${f.match}”`))),
        el("p", {}, "Edit your reply, or press Send reply again to send it as it is.")));
    }
    const sent = await call("POST", "/messages", secret, { body: text });
    if (!sent.ok) return show(status, el("p", { class: "alert", role: "alert" }, problemText(sent)));
    render(sent.body, secret);
  } },
    el("div", { class: "field" }, el("label", { for: "reply-body" }, "Your reply"), replyBody),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Send reply")));
  const toggle = async (path, json) => {
    const done = await call("PUT", path, secret, json);
    if (!done.ok) return show(status, el("p", { class: "alert", role: "alert" }, problemText(done)));
    render(done.body, secret);
  };
  const consent = el("input", { type: "checkbox", id: "consent", checked: thread.author_consent,
                                onchange: () => toggle("/consent", { consent: consent.checked }) });
  show(container,
    el("h2", { id: "thread-title" }, thread.title),
    el("p", { class: "muted", id: "thread-status" }, `${thread.service.name} · ${statusLine(thread)} · opened ${thread.opened_on}`),
    messageList(thread.messages),
    replyForm, status,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => toggle("/resolution", { resolved: !thread.resolved }) },
        thread.resolved ? "Reopen this thread" : "Mark as resolved")),
    el("div", { class: "field" }, el("label", { for: "consent" }, consent,
      " I agree that this thread may appear on the public board (a moderator must approve it too)"),
      thread.publish_requested && !thread.author_consent ? el("p", { class: "hint" }, "The service's team asked to publish this thread.") : null));
}

secretForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const secret = await normaliseSecret(secretInput.value);
  if (!secret) {
    secretInput.setAttribute("aria-invalid", "true");
    return show(container, el("p", { class: "alert", role: "alert" }, "A thread secret is twelve words from the word list."));
  }
  secretInput.removeAttribute("aria-invalid");
  openThread(secret, { keep: document.getElementById("secret-keep").checked });
});

listKept();
