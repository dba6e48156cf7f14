// One action item: its facts, the declared expected effect (locked once accepted), the
// status moves the viewer may make, the measured outcome, edits and the activity log.
import { el, fetchJson, problemText, show } from "../lib/base.js";
import { formatDate, formatNumber, t } from "../lib/i18n.js";

const box = document.getElementById("action");
const actionId = box.dataset.actionId;
const LABELS = { proposed: t("Proposed"), accepted: t("Accepted"), in_progress: t("In progress"), done: t("Done"), wont_do: t("Won’t do") };
const VERDICTS = { improved: t("improved"), worsened: t("worsened"), "no detectable change": t("no detectable change"), "not enough responses": t("not enough responses") };
const VERBS = { accepted: t("Accept"), in_progress: t("Start work"), done: t("Mark done"), wont_do: t("Won’t do") };

function signed(v, digits = 2) {
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${formatNumber(Math.abs(v), { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A mean with a true minus sign, in the reader's number format. */
function mean(v) {
  return formatNumber(v, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).replace("-", "−");
}

function when(iso) {
  return iso ? formatDate(iso, { dateStyle: "medium", timeStyle: "short" }) : "—";
}

function outcomeBlock(o) {
  if (!o) return el("p", { id: "outcome", class: "muted" }, t("Measured once the item is done and a later wave of the same survey closes for this service."));
  if (o.state !== "measured") return el("p", { id: "outcome", class: "muted" }, o.explanation);
  const head = el("p", {}, el("strong", { "data-verdict": o.verdict }, t("Outcome: {verdict}", { verdict: VERDICTS[o.verdict] || o.verdict })));
  if (o.verdict === "not enough responses") {
    return el("div", { id: "outcome", class: "notice" }, head, el("p", {}, t("Between “{before}” and “{after}”: {reason}.", { before: o.baseline.title, after: o.later.title, reason: o.reason })));
  }
  return el("div", { id: "outcome", class: "notice" }, head,
    el("p", {}, t("The {score} on {level} {key} changed by {difference} between “{before}” (mean {mean_before}, n = {n_before}) and “{after}” (mean {mean_after}, n = {n_after})", {
      score: o.score, level: o.level, key: o.key, difference: signed(o.difference), before: o.baseline.title, after: o.later.title,
      mean_before: mean(o.mean_before), n_before: formatNumber(o.n_before), mean_after: mean(o.mean_after), n_after: formatNumber(o.n_after) }),
      o.ci_low !== null ? t("; 95% Welch interval {low} to {high}.", { low: signed(o.ci_low), high: signed(o.ci_high) }) : "."),
    el("p", {}, t("Declared expected change: {change}. ", { change: signed(o.expected_change, 1) }),
      o.expected_met === true ? t("The interval shows it was reached.") : o.expected_met === false ? t("The interval shows it was not reached.") : t("The interval cannot tell whether it was reached.")),
    el("details", {}, el("summary", {}, t("How the verdict is decided")), el("p", {}, o.method)));
}

function facts(item) {
  const rows = [
    [t("Status"), el("span", { class: `status status-${item.status}`, id: "item-status" }, LABELS[item.status])],
    [t("Service"), item.service.name],
    [t("Owner"), item.owner.name],
    [t("Due"), [item.due_on ? formatDate(item.due_on) : "—", item.overdue ? el("strong", {}, t(" (overdue)")) : null]],
    [t("Source"), item.source === "candidate"
      ? [t("Ranked candidate of a wave: {level} {key}. ", { level: item.target_level, key: item.target_key }), el("a", { href: `/waves/${item.campaign_id}` }, t("The wave"))]
      : t("A feedback thread")],
    [t("Expected effect"), item.expected
      ? [t("{level} {key}: gap change {change}", { level: item.expected.level, key: item.expected.key, change: signed(item.expected.change, 1) }), item.status !== "proposed" ? el("span", { class: "muted" }, t(" (locked)")) : null]
      : t("not declared yet")],
  ];
  if (item.candidate) rows.push([t("Why it was ranked"), item.candidate.reason]);
  if (item.wont_do_reason) rows.push([t("Why not"), item.wont_do_reason]);
  if (item.description) rows.push([t("Description"), item.description]);
  if (item.internal_notes) rows.push([t("Internal notes (staff only)"), item.internal_notes]);
  return el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function statusControls(detail, message) {
  if (detail.allowed.length === 0) return null;
  const reason = el("input", { id: "wont-do-reason", type: "text", maxlength: "2000" });
  const buttons = detail.allowed.map((status) => el("button", {
    type: "button", class: status === "wont_do" ? "secondary" : "", "data-status": status,
    onclick: async () => {
      const body = { status };
      if (status === "wont_do") {
        if (!reason.value.trim()) {
          show(message, el("p", { class: "alert", role: "alert" }, t("Say why it won’t be done.")));
          return reason.focus();
        }
        body.reason = reason.value.trim();
      }
      const result = await fetchJson(`/api/actions/${actionId}/status`, { method: "POST", json: body });
      if (!result.ok) return show(message, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not change the status."))));
      render(result.body, t("Status is now {status}.", { status: LABELS[result.body.item.status] }));
    },
  }, VERBS[status]));
  return el("section", { "aria-labelledby": "move-heading" }, el("h2", { id: "move-heading" }, t("Move it on")),
    el("div", { class: "actions" }, buttons),
    detail.allowed.includes("wont_do") ? el("div", { class: "field" }, el("label", { for: "wont-do-reason" }, t("Reason, if it won’t be done")), reason) : null);
}

function editForm(detail, message) {
  const item = detail.item;
  if (!detail.can_edit || item.status === "done" || item.status === "wont_do") return null;
  const f = {
    title: el("input", { id: "e-title", name: "title", type: "text", value: item.title, maxlength: "200", required: true }),
    description: el("textarea", { id: "e-description", name: "description" }, item.description),
    internal_notes: el("textarea", { id: "e-notes", name: "internal_notes" }, item.internal_notes),
    due_on: el("input", { id: "e-due", name: "due_on", type: "date", value: item.due_on }),
  };
  const fields = [
    el("div", { class: "field" }, el("label", { for: "e-title" }, t("Title")), f.title),
    el("div", { class: "field" }, el("label", { for: "e-description" }, t("Description (shown to members once accepted)")), f.description),
    el("div", { class: "field" }, el("label", { for: "e-notes" }, t("Internal notes (staff only)")), f.internal_notes),
    el("div", { class: "field" }, el("label", { for: "e-due" }, t("Due date")), f.due_on),
  ];
  let expected = null;
  if (item.status === "proposed" && item.campaign_id) {
    expected = {
      level: el("select", { id: "e-exp-level" }, ["item", "dimension"].map((l) => el("option", { value: l, selected: (item.expected?.level ?? item.target_level) === l }, l))),
      key: el("input", { id: "e-exp-key", type: "text", value: item.expected?.key ?? item.target_key ?? "" }),
      change: el("input", { id: "e-exp-change", type: "number", step: "0.1", min: "-12", max: "12", value: item.expected?.change ?? "" }),
    };
    fields.push(el("fieldset", {}, el("legend", {}, t("Expected effect (locked once accepted)")),
      el("div", { class: "field" }, el("label", { for: "e-exp-level" }, t("Level")), expected.level),
      el("div", { class: "field" }, el("label", { for: "e-exp-key" }, t("Item or dimension key")), expected.key),
      el("div", { class: "field" }, el("label", { for: "e-exp-change" }, t("Expected gap change (e.g. 0.5)")), expected.change)));
  }
  const form = el("form", { id: "edit-form", class: "stack" }, fields, el("button", { type: "submit" }, t("Save changes")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { title: f.title.value, description: f.description.value, internal_notes: f.internal_notes.value, due_on: f.due_on.value || null };
    if (expected && expected.key.value && expected.change.value !== "") {
      body.expected = { level: expected.level.value, key: expected.key.value.trim(), change: Number(expected.change.value) };
    }
    const result = await fetchJson(`/api/actions/${actionId}`, { method: "PATCH", json: body });
    if (!result.ok) return show(message, el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not save."))));
    render(result.body, t("Saved."));
  });
  return el("section", { "aria-labelledby": "edit-heading" }, el("h2", { id: "edit-heading" }, t("Edit")), form);
}

function activity(log) {
  const describe = (a) => {
    if (a.kind === "create") return t("created it");
    if (a.kind === "status") return t("moved it from {from} to {to}", { from: LABELS[a.from_status], to: LABELS[a.to_status] });
    return t("changed {fields}", { fields: Object.keys(a.changes).join(", ") });
  };
  return el("section", { "aria-labelledby": "log-heading" }, el("h2", { id: "log-heading" }, t("Activity")),
    el("div", { class: "table-wrap" }, el("table", { id: "activity" },
      el("caption", { class: "visually-hidden" }, t("Every change, who made it and when")),
      el("thead", {}, el("tr", {}, [t("When"), t("Who"), t("What"), t("Note")].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, log.map((a) => el("tr", {},
        el("td", {}, el("time", { datetime: a.at }, when(a.at))), el("td", {}, a.actor.name), el("td", {}, describe(a)), el("td", {}, a.note)))))));
}

function render(detail, announce = "") {
  const message = el("div", { role: "status", id: "item-message" }, announce ? el("p", { class: "success" }, announce) : null);
  show(box, el("h1", { id: "action-title" }, detail.item.title), message, facts(detail.item),
    el("section", { "aria-labelledby": "outcome-heading" }, el("h2", { id: "outcome-heading" }, t("Measured outcome")), outcomeBlock(detail.outcome)),
    statusControls(detail, message), editForm(detail, message), activity(detail.activity));
  box.dataset.ready = "true";
}

const result = await fetchJson(`/api/actions/${actionId}`);
if (result.ok) render(result.body);
else show(box, el("h1", { id: "action-title" }, t("Action item")), el("p", { class: "alert", role: "alert" }, problemText(result, t("Could not load the action item."))));
