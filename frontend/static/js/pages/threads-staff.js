// One thread, staff side: owners reply under their name, set the status, ask for
// publication, send it to the service desk; moderators hide messages (with a reason)
// and decide on publication.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { messageList, statusLine } from "../lib/threads-render.js";

const root = document.getElementById("staff-thread");
const id = root.dataset.threadId;
const isOwner = root.dataset.owner === "True";
const isModerator = root.dataset.moderator === "True";

async function act(method, path, json) {
  const done = await fetchJson(`/api/threads/${id}${path}`, { method, json });
  if (!done.ok) return say(problemText(done), "alert");
  render(done.body);
  return done;
}

function say(text, kind = "success") {
  const status = document.getElementById("staff-status");
  show(status, el("p", { class: kind, role: kind === "alert" ? "alert" : "status" }, text));
}

function hideForm(message) {
  if (!isModerator || message.hidden_reason !== null) return null;
  const reason = el("input", { type: "text", id: `hide-reason-${message.seq}`, maxlength: 1000 });
  return el("form", { class: "stack", onsubmit: (event) => {
    event.preventDefault();
    if (!reason.value.trim()) return say("Give the reason the author will see.", "alert");
    act("POST", `/messages/${message.seq}/hide`, { reason: reason.value.trim() });
  } },
    el("div", { class: "field" }, el("label", { for: `hide-reason-${message.seq}` }, `Reason for hiding message #${message.seq} (the author sees it)`), reason),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "secondary" }, `Hide message #${message.seq}`)));
}

function ownerTools(thread) {
  if (!isOwner) return null;
  const body = el("textarea", { id: "staff-reply", rows: 5, maxlength: 10000 });
  return el("section", { "aria-labelledby": "reply-heading" },
    el("h2", { id: "reply-heading" }, "Answer"),
    el("form", { class: "stack", onsubmit: async (event) => {
      event.preventDefault();
      if (!body.value.trim()) return say("Write your answer first.", "alert");
      if (await act("POST", "/messages", { body: body.value.trim() })) say("Answer sent under your name.");
    } },
      el("div", { class: "field" }, el("label", { for: "staff-reply" }, "Your answer (signed with your name)"), body),
      el("div", { class: "actions" }, el("button", { type: "submit" }, "Send answer"))),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/status", { status: "acknowledged" }) }, "Mark acknowledged"),
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/status", { status: "answered" }) }, "Mark answered"),
      thread.publish_requested ? null : el("button", { type: "button", class: "secondary", onclick: () => act("POST", "/publication-request") }, "Ask to publish on the board"),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        const sent = await fetchJson(`/api/threads/${id}/ticket`, { method: "POST" });
        say(sent.ok ? "Queued for the service desk: the thread's text and link are sent, signed, with retries." : problemText(sent), sent.ok ? "success" : "alert");
      } }, "Send to the service desk"),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        // Action items (issue 9) are made from a thread by their own API.
        const made = await fetchJson("/api/actions", { method: "POST", json: { thread_id: id, title: thread.title } });
        if (made.ok && made.body && made.body.item) window.location.assign(`/actions/${made.body.item.id}`);
        else say(problemText(made, "Could not turn this thread into an action item."), "alert");
      } }, "Turn into an action item")));
}

function moderatorTools(thread) {
  if (!isModerator) return null;
  return el("section", { "aria-labelledby": "moderation-heading" },
    el("h2", { id: "moderation-heading" }, "Publication"),
    el("p", {}, thread.publish_approved ? "Approved for the public board." : "Not approved for the public board.",
      " ", thread.author_consent ? "The author agreed to publication." : "The author has not agreed (yet)."),
    el("div", { class: "actions" },
      thread.publish_approved ? null : el("button", { type: "button", onclick: () => act("PUT", "/publication", { approved: true }) }, "Approve for the board"),
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/publication", { approved: false }) },
        thread.publish_approved ? "Withdraw from the board" : "Reject publication")));
}

function render(view) {
  const thread = view.thread;
  show(root,
    el("h1", {}, thread.title),
    el("p", { class: "muted", id: "thread-status" }, `${thread.service.name} · ${statusLine(thread)} · opened ${thread.opened_on}`),
    el("p", { id: "read-marker" }, view.author_read_seq >= thread.messages
      ? "The author has read every message." : `The author has read up to message #${view.author_read_seq}.`),
    messageList(view.messages, { readUpTo: view.author_read_seq, actions: hideForm }),
    el("div", { id: "staff-status", "aria-live": "polite" }),
    ownerTools(thread), moderatorTools(thread),
    el("p", {}, el("a", { href: isModerator && !isOwner ? "/moderation" : "/threads/inbox" }, "Back")));
}

fetchJson(`/api/threads/${id}`).then((got) => {
  if (!got.ok) return show(root, el("p", { class: "alert", role: "alert" }, problemText(got)));
  render(got.body);
});
