// Moderation: the publication queue and the moderation log.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { threadLink } from "../lib/threads-render.js";
import { formatDate, t } from "../lib/i18n.js";

const queue = document.getElementById("queue");
const log = document.getElementById("log");

fetchJson("/api/threads?awaiting=publication").then((got) => {
  if (!got.ok) return show(queue, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(queue, el("p", { class: "muted" }, t("Nothing is waiting for a decision.")));
  show(queue, el("ul", { class: "cards" }, got.body.map((thread) => threadLink(`/threads/staff/${thread.id}`, thread))));
});

fetchJson("/api/threads/audit").then((got) => {
  if (!got.ok) return show(log, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(log, el("p", { class: "muted" }, t("No moderation action yet.")));
  show(log, el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, [t("When"), t("Moderator"), t("Action"), t("Thread"), t("Reason")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, got.body.map((e) => el("tr", {},
      el("td", {}, formatDate(e.at, { dateStyle: "medium", timeStyle: "short" })), el("td", {}, e.actor),
      el("td", {}, e.message_seq ? t("{action} (message #{seq})", { action: e.action, seq: e.message_seq }) : e.action),
      el("td", {}, el("a", { href: `/threads/staff/${e.thread_id}` }, t("Open"))), el("td", {}, e.reason)))))));
});
