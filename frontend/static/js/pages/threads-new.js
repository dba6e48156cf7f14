// Open a thread: warn about identifying details (locally), spend one thread token
// without cookies, and show the thread's secret once.
// The token client (blind RSA, the key log) and what sending needs come with import(), as on
// every member page (member.js): in the background, so the page's static module graph stays
// light (issue 19), and at load, never at Send: fetching a module then would be a signed-in
// request marking the moment of the anonymous one.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { FINDING_KIND, findIdentifying } from "../lib/threads-identify.js";
import { newSecret } from "../lib/threads-secret.js";
import { formatNumber, t } from "../lib/i18n.js";

const sending = Promise.all([import("../lib/store.js"), import("../lib/privacypass.js")]);
sending.catch(() => {}); // a failure to load them shows at Send, where they are awaited

const form = document.getElementById("thread-form");
const service = document.getElementById("thread-service");
const warning = document.getElementById("identify-warning");
const result = document.getElementById("thread-result");
const allowance = document.getElementById("allowance");
const titleInput = document.getElementById("thread-title");
const bodyInput = document.getElementById("thread-body");
const category = document.getElementById("thread-category");
let confirmedText = null;

async function loadServices() {
  const list = await fetchJson("/api/services");
  if (!list.ok) return show(result, el("p", { class: "alert", role: "alert" }, problemText(list)));
  const services = (list.body || []).filter((s) => !s.archived);
  service.replaceChildren(el("option", { value: "" }, t("Choose a service…")),
    ...services.map((s) => el("option", { value: s.id }, s.name)));
}

async function loadAllowance() {
  const { ensureThreadTokens } = await import("../lib/tokens.js");
  const got = await ensureThreadTokens();
  if (got.logFailure) {
    const { logAlarm } = await import("../lib/transparency.js"); // already loaded by the token client
    allowance.textContent = "";
    allowance.after(logAlarm(got.logFailure));
    return;
  }
  if (got.error) {
    allowance.textContent = t("Could not fetch this month's thread tokens.");
    return;
  }
  const values = { count: formatNumber(got.held), month: formatNumber(got.allowance.per_month) };
  allowance.textContent = got.held === 1
    ? t("This browser holds {count} unused thread token this month (you get {month} a month).", values)
    : t("This browser holds {count} unused thread tokens this month (you get {month} a month).", values);
}

function fieldError(input, message) {
  input.setAttribute("aria-invalid", "true");
  show(result, el("p", { class: "alert", role: "alert", tabindex: "-1" }, message));
  input.focus();
}

function warn(findings) {
  const sendAnyway = el("button", { type: "button", onclick: () => { confirmedText = currentText(); form.requestSubmit(); } }, t("Send anyway"));
  const edit = el("button", { type: "button", class: "secondary", onclick: () => document.getElementById("thread-body").focus() }, t("Edit my message"));
  show(warning, el("div", { class: "alert", role: "alert", id: "identify-alert", tabindex: "-1" },
    el("h2", {}, t("This may identify you")),
    el("p", {}, t("Your message contains details that could point to you. Anonymity protects who sent it, not what it says:")),
    el("ul", {}, findings.map((f) => el("li", {}, `${FINDING_KIND[f.kind] || f.kind}: “${f.match}”`))),
    el("p", {}, t("Nothing has been sent. Edit the message, or send it as it is.")),
    el("div", { class: "actions" }, edit, sendAnyway)));
  document.getElementById("identify-alert").focus();
}

function currentText() {
  return `${titleInput.value}\n${bodyInput.value}`;
}

async function usableToken(threadTokens) {
  const tokens = await threadTokens.all();
  const periods = [...new Set(tokens.map((t) => t.period))].sort().slice(-2);
  return threadTokens.take([...new Set(tokens.filter((t) => periods.includes(t.period)).map((t) => t.keyId))]);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (!service.value) return fieldError(service, t("Choose the service your feedback is about."));
  if (!titleInput.value.trim()) return fieldError(titleInput, t("Give your thread a title."));
  if (!bodyInput.value.trim()) return fieldError(bodyInput, t("Write your message."));
  const findings = findIdentifying(currentText());
  if (findings.length && confirmedText !== currentText()) return warn(findings);
  show(warning);
  const button = document.getElementById("thread-send");
  button.disabled = true;
  try {
    await send();
  } finally {
    button.disabled = false;
  }
});

async function send() {
  const [{ keptThreads, threadTokens }, { formatAuthorization }] = await sending;
  const token = await usableToken(threadTokens);
  if (!token) {
    return show(result, el("p", { class: "alert", role: "alert" },
      t("This browser has no thread token left this month. Tokens are fetched when you sign in; if you used them all, wait for next month.")));
  }
  const secret = await newSecret();
  show(result, el("p", { class: "muted", role: "status" }, t("Sending anonymously…")));
  // A short random wait, so the moment of sending is not the moment of a page action.
  await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
  const body = { service_id: service.value, category: category.value, title: titleInput.value.trim(),
                 body: bodyInput.value.trim(), secret };
  const sent = await fetchJson("/anon/threads", { method: "POST", credentials: "omit", json: body,
                                                   headers: { authorization: formatAuthorization(token.token) } });
  if (!sent.ok) {
    const spent = sent.status === 409 && sent.body && sent.body.type === "/problems/token-spent";
    if (!spent && sent.status !== 401) await threadTokens.add({ keyId: token.keyId, period: token.period, token: token.token });
    return show(result, el("p", { class: "alert", role: "alert" },
      spent || sent.status === 401 ? t("That token could not be used; press Send again to use another.") : problemText(sent)));
  }
  const serviceName = service.selectedOptions[0].textContent;
  await keptThreads.put({ threadId: sent.body.thread_id, secret, title: body.title, service: serviceName, openedOn: sent.body.opened_on });
  form.hidden = true;
  show(result, el("div", { class: "success", role: "status", tabindex: "-1", id: "thread-opened" },
    el("h2", {}, t("Your thread is open")),
    el("p", {}, t("Write down this secret. It is the only way to read answers and reply, from this or any other device. Nobody — not even the server — can show it to you again:")),
    el("p", { class: "mono", id: "thread-secret" }, secret),
    el("p", {}, t("This browser keeps it too, until you remove it. "), el("a", { href: "/threads/follow" }, t("Follow your threads")), ".")));
  document.getElementById("thread-opened").focus();
}

loadServices();
loadAllowance();
