// Follow a thread with its secret alone: read, reply, resolve or reopen, consent to the
// public board. Every request omits cookies; the secret travels in a header only.
// A thread's rendering and the check for identifying details come with import(), in the
// background, so the page's static module graph stays light (issue 19); at load, never when a
// thread is opened or a reply sent: fetching a module then would be a signed-in request
// marking the moment of an anonymous one.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { authorization, normaliseSecret } from "../lib/threads-secret.js";
import { keptThreads } from "../lib/store.js";
import { formatDate, t } from "../lib/i18n.js";

const rendering = import("../lib/threads-render.js");
const identifying = import("../lib/threads-identify.js");
for (const loading of [rendering, identifying]) loading.catch(() => {}); // shown where awaited

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
  if (!threads.length) return show(kept, el("p", { class: "muted" }, t("No thread is kept in this browser.")));
  show(kept, el("ul", { class: "cards" }, threads.map((thread) => el("li", { class: "card" },
    el("h3", {}, thread.title || t("Thread")),
    el("p", { class: "muted" }, `${thread.service || ""} · ${t("opened {day}", { day: thread.openedOn ? formatDate(thread.openedOn) : "?" })}`),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => openThread(thread.secret) }, t("Open “{title}”", { title: thread.title || t("thread") })),
      el("button", { type: "button", class: "secondary", onclick: async () => { await keptThreads.remove(thread.threadId); listKept(); } },
        t("Forget in this browser")))))));
}

async function openThread(secret, { keep = false } = {}) {
  show(container, el("p", { class: "muted", role: "status" }, t("Opening…")));
  const got = await call("GET", "", secret);
  if (!got.ok) {
    const text = got.status === 401 ? t("No thread opens with this secret. Check the twelve words.") : problemText(got);
    return show(container, el("p", { class: "alert", role: "alert" }, text));
  }
  if (keep || (await keptThreads.get(got.body.thread_id))) {
    await keptThreads.put({ threadId: got.body.thread_id, secret, title: got.body.title, service: got.body.service.name, openedOn: got.body.opened_on });
    listKept();
  }
  await render(got.body, secret);
}

async function render(thread, secret) {
  const { messageList, statusLine } = await rendering;
  const replyBody = el("textarea", { id: "reply-body", rows: 5, maxlength: 10000, required: true });
  const status = el("div", { "aria-live": "polite" });
  let confirmed = null;
  const replyForm = el("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    const text = replyBody.value.trim();
    if (!text) return show(status, el("p", { class: "alert", role: "alert" }, t("Write your reply first.")));
    const { FINDING_KIND, findIdentifying } = await identifying;
    const findings = findIdentifying(text);
    if (findings.length && confirmed !== text) {
      confirmed = text;
      return show(status, el("div", { class: "alert", role: "alert" },
        el("p", {}, t("This may identify you — nothing has been sent:")),
        el("ul", {}, findings.map((f) => el("li", {}, `${FINDING_KIND[f.kind] || f.kind}: “${f.match}”`))),
        el("p", {}, t("Edit your reply, or press Send reply again to send it as it is."))));
    }
    const sent = await call("POST", "/messages", secret, { body: text });
    if (!sent.ok) return show(status, el("p", { class: "alert", role: "alert" }, problemText(sent)));
    await render(sent.body, secret);
  } },
    el("div", { class: "field" }, el("label", { for: "reply-body" }, t("Your reply")), replyBody),
    el("div", { class: "actions" }, el("button", { type: "submit" }, t("Send reply"))));
  const toggle = async (path, json) => {
    const done = await call("PUT", path, secret, json);
    if (!done.ok) return show(status, el("p", { class: "alert", role: "alert" }, problemText(done)));
    await render(done.body, secret);
  };
  const consent = el("input", { type: "checkbox", id: "consent", checked: thread.author_consent,
                                onchange: () => toggle("/consent", { consent: consent.checked }) });
  show(container,
    el("h2", { id: "thread-title" }, thread.title),
    el("p", { class: "muted", id: "thread-status" }, `${thread.service.name} · ${statusLine(thread)} · ${t("opened {day}", { day: formatDate(thread.opened_on) })}`),
    messageList(thread.messages),
    replyForm, status,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => toggle("/resolution", { resolved: !thread.resolved }) },
        thread.resolved ? t("Reopen this thread") : t("Mark as resolved"))),
    el("div", { class: "field" }, el("label", { for: "consent" }, consent,
      " ", t("I agree that this thread may appear on the public board (a moderator must approve it too)")),
      thread.publish_requested && !thread.author_consent ? el("p", { class: "hint" }, t("The service's team asked to publish this thread.")) : null));
}

secretForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const secret = await normaliseSecret(secretInput.value);
  if (!secret) {
    secretInput.setAttribute("aria-invalid", "true");
    return show(container, el("p", { class: "alert", role: "alert" }, t("A thread secret is twelve words from the word list.")));
  }
  secretInput.removeAttribute("aria-invalid");
  openThread(secret, { keep: document.getElementById("secret-keep").checked });
});

listKept();
