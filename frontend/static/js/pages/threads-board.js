// The public board: search published threads and read one.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { messageList, statusLine, threadLink } from "../lib/threads-render.js";
import { t } from "../lib/i18n.js";

const list = document.getElementById("board");
const detail = document.getElementById("board-thread");
const form = document.getElementById("search-form");

async function search(q) {
  const got = await fetchJson(`/api/board?q=${encodeURIComponent(q)}`);
  if (!got.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(list, el("p", { class: "muted" }, q ? t("Nothing on the board matches your search.") : t("Nothing has been published yet.")));
  show(list, el("ul", { class: "cards" }, got.body.map((thread) => {
    const item = threadLink(`#${thread.id}`, thread);
    item.querySelector("a").addEventListener("click", (event) => { event.preventDefault(); open(thread.id); });
    return item;
  })));
}

async function open(id) {
  const got = await fetchJson(`/api/board/${id}`);
  if (!got.ok) return show(detail, el("p", { class: "alert", role: "alert" }, problemText(got)));
  const thread = got.body.thread;
  show(detail, el("h2", { tabindex: "-1", id: "board-title" }, thread.title),
    el("p", { class: "muted" }, `${thread.service.name} · ${statusLine(thread)}`), messageList(got.body.messages));
  document.getElementById("board-title").focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  search(document.getElementById("search-q").value.trim());
});
search("");
