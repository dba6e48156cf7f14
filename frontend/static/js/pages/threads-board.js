// The public board: search published threads and read one.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { messageList, statusLine, threadLink } from "../lib/threads-render.js";

const list = document.getElementById("board");
const detail = document.getElementById("board-thread");
const form = document.getElementById("search-form");

async function search(q) {
  const got = await fetchJson(`/api/board?q=${encodeURIComponent(q)}`);
  if (!got.ok) return show(list, el("p", { class: "alert", role: "alert" }, problemText(got)));
  if (!got.body.length) return show(list, el("p", { class: "muted" }, q ? "Nothing on the board matches your search." : "Nothing has been published yet."));
  show(list, el("ul", { class: "cards" }, got.body.map((t) => {
    const item = threadLink(`#${t.id}`, t);
    item.querySelector("a").addEventListener("click", (event) => { event.preventDefault(); open(t.id); });
    return item;
  })));
}

async function open(id) {
  const got = await fetchJson(`/api/board/${id}`);
  if (!got.ok) return show(detail, el("p", { class: "alert", role: "alert" }, problemText(got)));
  const t = got.body.thread;
  show(detail, el("h2", { tabindex: "-1", id: "board-title" }, t.title),
    el("p", { class: "muted" }, `${t.service.name} · ${statusLine(t)}`), messageList(got.body.messages));
  document.getElementById("board-title").focus();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  search(document.getElementById("search-q").value.trim());
});
search("");
