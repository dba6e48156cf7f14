// Rendering shared by the thread pages. Untrusted text only goes into text nodes.
import { el, fetchJson, show } from "./base.js";

export const CATEGORY = { problem: "Problem", idea: "Idea", question: "Question", praise: "Praise" };
export const STAFF_STATUS = { new: "New", acknowledged: "Acknowledged", answered: "Answered" };

export function statusLine(thread) {
  const parts = [CATEGORY[thread.category] || thread.category, STAFF_STATUS[thread.staff_status] || thread.staff_status];
  if (thread.resolved) parts.push("Resolved by the author");
  if (thread.public) parts.push("On the public board");
  return parts.join(" · ");
}

/**
 * The messages of a thread as an ordered list. `hideLabel`: what to say for a hidden
 * message whose text this viewer does not get.
 */
export function messageList(messages, { readUpTo = null, actions = null } = {}) {
  return el("ol", { class: "messages", "aria-label": "Messages" }, messages.map((m) => {
    const who = m.from_staff ? `${m.staff_name || "Staff"} (service team)` : "Author (anonymous)";
    const when = m.posted_at ? new Date(m.posted_at).toLocaleString() : m.posted_on;
    const hidden = m.hidden_reason !== null && m.hidden_reason !== undefined;
    return el("li", { class: "card message", id: `message-${m.seq}`, dataset: { seq: m.seq } },
      el("p", { class: "muted" }, `#${m.seq} · ${who} · ${when}`),
      hidden ? el("p", { class: "notice", role: "note" }, `Hidden by a moderator. Reason: ${m.hidden_reason}`) : null,
      m.body ? el("p", { class: "body" }, m.body) : null,
      readUpTo !== null && m.from_staff && m.seq <= readUpTo ? el("p", { class: "muted" }, "Read by the author") : null,
      actions ? actions(m) : null);
  }));
}

export function threadLink(href, thread) {
  return el("li", { class: "card" },
    el("h3", {}, el("a", { href }, thread.title)),
    el("p", { class: "muted" }, `${thread.service.name} · ${statusLine(thread)} · opened ${thread.opened_on} · ${thread.messages} message${thread.messages === 1 ? "" : "s"}`));
}

/** A service-desk webhook's delivery log (owners' inbox, admins' service page). */
export function deliveryTable(deliveries) {
  if (!deliveries.length) return el("p", { class: "muted" }, "Nothing sent yet.");
  return el("div", { class: "table-wrap" }, el("table", {},
    el("caption", {}, "Delivery log"),
    el("thead", {}, el("tr", {}, ["Queued", "Thread", "State", "Attempts", "Last answer"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, deliveries.map((d) => el("tr", {},
      el("td", {}, new Date(d.created_at).toLocaleString()), el("td", {}, d.payload.title),
      el("td", {}, el("span", { class: `status status-${d.state}` }, d.state)), el("td", { class: "num" }, d.attempts),
      el("td", {}, d.last_error || (d.last_status ? `HTTP ${d.last_status}` : "—")))))));
}

/**
 * A webhook's delivery log, fetched again from `url` on `refresh()`; while a delivery is
 * pending it looks again every few seconds (the server retries on its own), until the log
 * leaves the page. Returns {node, show(deliveries), refresh() -> the fetch result or null}.
 */
export function deliveryLog(url, attrs = {}) {
  const node = el("div", attrs);
  let timer = null;
  const showLog = (deliveries) => {
    show(node, deliveryTable(deliveries));
    clearTimeout(timer);
    if (deliveries.some((d) => d.state === "pending")) timer = setTimeout(refresh, 3000);
  };
  const refresh = async () => {
    if (!node.isConnected) return null;
    const again = await fetchJson(url);
    if (again.ok && node.isConnected) showLog(again.body.deliveries);
    return again;
  };
  return { node, show: showLog, refresh };
}
