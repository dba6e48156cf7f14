// One thread, staff side: owners reply under their name, set the status, ask for
// publication, send it to the service desk; moderators hide messages (with a reason)
// and decide on publication.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { messageList, statusLine } from "../lib/threads-render.js";
import { formatDate, t } from "../lib/i18n.js";

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
    if (!reason.value.trim()) return say(t("Give the reason the author will see."), "alert");
    act("POST", `/messages/${message.seq}/hide`, { reason: reason.value.trim() });
  } },
    el("div", { class: "field" }, el("label", { for: `hide-reason-${message.seq}` }, t("Reason for hiding message #{seq} (the author sees it)", { seq: message.seq })), reason),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "secondary" }, t("Hide message #{seq}", { seq: message.seq }))));
}

function ownerTools(thread) {
  if (!isOwner) return null;
  const body = el("textarea", { id: "staff-reply", rows: 5, maxlength: 10000 });
  return el("section", { "aria-labelledby": "reply-heading" },
    el("h2", { id: "reply-heading" }, t("Answer")),
    el("form", { class: "stack", onsubmit: async (event) => {
      event.preventDefault();
      if (!body.value.trim()) return say(t("Write your answer first."), "alert");
      if (await act("POST", "/messages", { body: body.value.trim() })) say(t("Answer sent under your name."));
    } },
      el("div", { class: "field" }, el("label", { for: "staff-reply" }, t("Your answer (signed with your name)")), body),
      el("div", { class: "actions" }, el("button", { type: "submit" }, t("Send answer")))),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/status", { status: "acknowledged" }) }, t("Mark acknowledged")),
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/status", { status: "answered" }) }, t("Mark answered")),
      thread.publish_requested ? null : el("button", { type: "button", class: "secondary", onclick: () => act("POST", "/publication-request") }, t("Ask to publish on the board")),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        const sent = await fetchJson(`/api/threads/${id}/ticket`, { method: "POST" });
        say(sent.ok ? t("Queued for the service desk: the thread's text and link are sent, signed, with retries.") : problemText(sent), sent.ok ? "success" : "alert");
      } }, t("Send to the service desk")),
      el("button", { type: "button", class: "secondary", onclick: async () => {
        // Action items (issue 9) are made from a thread by their own API.
        const made = await fetchJson("/api/actions", { method: "POST", json: { thread_id: id, title: thread.title } });
        if (made.ok && made.body && made.body.item) window.location.assign(`/actions/${made.body.item.id}`);
        else say(problemText(made, t("Could not turn this thread into an action item.")), "alert");
      } }, t("Turn into an action item"))));
}

function moderatorTools(thread) {
  if (!isModerator) return null;
  return el("section", { "aria-labelledby": "moderation-heading" },
    el("h2", { id: "moderation-heading" }, t("Publication")),
    el("p", {}, thread.publish_approved ? t("Approved for the public board.") : t("Not approved for the public board."),
      " ", thread.author_consent ? t("The author agreed to publication.") : t("The author has not agreed (yet).")),
    el("div", { class: "actions" },
      thread.publish_approved ? null : el("button", { type: "button", onclick: () => act("PUT", "/publication", { approved: true }) }, t("Approve for the board")),
      el("button", { type: "button", class: "secondary", onclick: () => act("PUT", "/publication", { approved: false }) },
        thread.publish_approved ? t("Withdraw from the board") : t("Reject publication"))));
}

// The service-desk ticket (Request Tracker): sent from an outbox by the server, its status
// brought back by polling or RT's signed callback. Owners send; owners and moderators read.
function ticketLine(desk, ticket) {
  if (ticket.state === "created") {
    return [t("{desk} ticket", { desk }), " ", el("a", { href: ticket.ticket_url, rel: "noreferrer", target: "_blank" }, `#${ticket.ticket_ref}`),
      " · ", t("queue {queue}", { queue: ticket.queue }), " · ",
      el("strong", { id: "ticket-state" }, ticket.status ?? t("status not known yet"))];
  }
  if (ticket.state === "pending") {
    return [t("Queued for {desk} (queue {queue}); attempts so far: {n}.", { desk, queue: ticket.queue, n: ticket.attempts }),
      ticket.last_error ? ` ${ticket.last_error}` : ""];
  }
  return t("Not sent: {reason}", { reason: ticket.last_error });
}

// Owners name their service's queue here the first time (PUT /api/services/{id}/servicedesk).
function queueForm(box, thread, desk) {
  const name = el("input", { type: "text", id: "desk-queue", maxlength: 200, required: true, autocomplete: "off" });
  return el("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    if (!name.value.trim()) return say(t("Name the queue first."), "alert");
    const saved = await fetchJson(`/api/services/${thread.service.id}/servicedesk`, { method: "PUT", json: { queue: name.value.trim() } });
    if (!saved.ok) return say(problemText(saved), "alert");
    say(t("Tickets of {service} go to the queue {queue}.", { service: thread.service.name, queue: saved.body.queue }));
    loadServiceDesk(box, thread);
  } },
    el("div", { class: "field" }, el("label", { for: "desk-queue" }, t("{desk} queue for {service}", { desk, service: thread.service.name })), name),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "secondary" }, t("Save the queue"))));
}

async function loadServiceDesk(box, thread) {
  const got = await fetchJson(`/api/threads/${id}/servicedesk`);
  const heading = el("h2", { id: "servicedesk-heading" }, t("Service desk"));
  if (!got.ok) return show(box, heading, el("p", { class: "alert", role: "alert" }, problemText(got)));
  const { desk, queue, ticket } = got.body;
  const canSend = isOwner && desk && queue && (!ticket || ticket.state === "failed");
  show(box, heading,
    ticket ? el("p", { id: "ticket-status" }, ticketLine(desk ?? t("Service desk"), ticket)) : null,
    !desk ? el("p", { class: "muted" }, t("No service desk is connected to this server.")) : null,
    desk && !queue && !ticket ? el("p", { class: "muted" }, t("This service has no queue at the service desk yet.")) : null,
    desk && !queue && isOwner ? queueForm(box, thread, desk) : null,
    canSend ? el("div", { class: "actions" }, el("button", { type: "button", id: "send-to-desk", onclick: async () => {
      const sent = await fetchJson(`/api/threads/${id}/servicedesk`, { method: "POST" });
      if (!sent.ok) return say(problemText(sent), "alert");
      say(t("Queued for {desk}: the thread's title, visible text and link, nothing else.", { desk }));
      loadServiceDesk(box, thread);
    } }, t("Send to service desk ({desk})", { desk }))) : null);
}

function serviceDesk(thread) {
  const box = el("section", { id: "servicedesk", "aria-labelledby": "servicedesk-heading", "aria-live": "polite" });
  loadServiceDesk(box, thread);
  return box;
}

function render(view) {
  const thread = view.thread;
  show(root,
    el("h1", {}, thread.title),
    el("p", { class: "muted", id: "thread-status" }, `${thread.service.name} · ${statusLine(thread)} · ${t("opened {day}", { day: formatDate(thread.opened_on) })}`),
    el("p", { id: "read-marker" }, view.author_read_seq >= thread.messages
      ? t("The author has read every message.") : t("The author has read up to message #{seq}.", { seq: view.author_read_seq })),
    messageList(view.messages, { readUpTo: view.author_read_seq, actions: hideForm }),
    el("div", { id: "staff-status", "aria-live": "polite" }),
    ownerTools(thread), moderatorTools(thread), serviceDesk(thread),
    el("p", {}, el("a", { href: isModerator && !isOwner ? "/moderation" : "/threads/inbox" }, t("Back"))));
}

fetchJson(`/api/threads/${id}`).then((got) => {
  if (!got.ok) return show(root, el("p", { class: "alert", role: "alert" }, problemText(got)));
  render(got.body);
});
