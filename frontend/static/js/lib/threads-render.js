// Rendering shared by the thread pages. Untrusted text only goes into text nodes.
import { el, fetchJson, show } from "./base.js";
import { formatDate, formatNumber, t } from "./i18n.js";

const MOMENT = { dateStyle: "medium", timeStyle: "short" };

export const CATEGORY = { problem: t("Problem"), idea: t("Idea"), question: t("Question"), praise: t("Praise") };
export const STAFF_STATUS = { new: t("New"), acknowledged: t("Acknowledged"), answered: t("Answered") };

const DELIVERY_STATE = { pending: t("pending"), delivered: t("delivered"), failed: t("failed") };

export function statusLine(thread) {
  const parts = [CATEGORY[thread.category] || thread.category, STAFF_STATUS[thread.staff_status] || thread.staff_status];
  if (thread.resolved) parts.push(t("Resolved by the author"));
  if (thread.public) parts.push(t("On the public board"));
  return parts.join(" · ");
}

/**
 * The messages of a thread as an ordered list. `hideLabel`: what to say for a hidden
 * message whose text this viewer does not get.
 */
export function messageList(messages, { readUpTo = null, actions = null } = {}) {
  return el("ol", { class: "messages", "aria-label": t("Messages") }, messages.map((m) => {
    const who = m.from_staff ? t("{name} (service team)", { name: m.staff_name || t("Staff") }) : t("Author (anonymous)");
    const when = m.posted_at ? formatDate(m.posted_at, MOMENT) : formatDate(m.posted_on);
    const hidden = m.hidden_reason !== null && m.hidden_reason !== undefined;
    return el("li", { class: "card message", id: `message-${m.seq}`, dataset: { seq: m.seq } },
      el("p", { class: "muted" }, `#${m.seq} · ${who} · ${when}`),
      hidden ? el("p", { class: "notice", role: "note" }, t("Hidden by a moderator. Reason: {reason}", { reason: m.hidden_reason })) : null,
      m.body ? el("p", { class: "body" }, m.body) : null,
      readUpTo !== null && m.from_staff && m.seq <= readUpTo ? el("p", { class: "muted" }, t("Read by the author")) : null,
      actions ? actions(m) : null);
  }));
}

export function threadLink(href, thread) {
  return el("li", { class: "card" },
    el("h3", {}, el("a", { href }, thread.title)),
    el("p", { class: "muted" }, `${thread.service.name} · ${statusLine(thread)} · ${t("opened {day}", { day: formatDate(thread.opened_on) })} · ${
      thread.messages === 1 ? t("{count} message", { count: 1 }) : t("{count} messages", { count: formatNumber(thread.messages) })}`));
}

/** A service-desk webhook's delivery log (owners' inbox, admins' service page). */
export function deliveryTable(deliveries) {
  if (!deliveries.length) return el("p", { class: "muted" }, t("Nothing sent yet."));
  return el("div", { class: "table-wrap" }, el("table", {},
    el("caption", {}, t("Delivery log")),
    el("thead", {}, el("tr", {}, [t("Queued"), t("Thread"), t("State"), t("Attempts"), t("Last answer")].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, deliveries.map((d) => el("tr", {},
      el("td", {}, formatDate(d.created_at, MOMENT)), el("td", {}, d.payload.title),
      el("td", {}, el("span", { class: `status status-${d.state}` }, DELIVERY_STATE[d.state] || d.state)), el("td", { class: "num" }, formatNumber(d.attempts)),
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
