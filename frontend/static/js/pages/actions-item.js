// One action item: its facts, the declared expected effect (locked once accepted), the
// status moves the viewer may make, the measured outcome, edits and the activity log.
import { el, fetchJson, problemText, show } from "../lib/base.js";

const box = document.getElementById("action");
const actionId = box.dataset.actionId;
const LABELS = { proposed: "Proposed", accepted: "Accepted", in_progress: "In progress", done: "Done", wont_do: "Won’t do" };
const VERBS = { accepted: "Accept", in_progress: "Start work", done: "Mark done", wont_do: "Won’t do" };

function signed(v, digits = 2) {
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(digits)}`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function outcomeBlock(o) {
  if (!o) return el("p", { id: "outcome", class: "muted" }, "Measured once the item is done and a later wave of the same survey closes for this service.");
  if (o.state !== "measured") return el("p", { id: "outcome", class: "muted" }, o.explanation);
  const head = el("p", {}, el("strong", { "data-verdict": o.verdict }, `Outcome: ${o.verdict}`));
  if (o.verdict === "not enough responses") {
    return el("div", { id: "outcome", class: "notice" }, head, el("p", {}, `Between “${o.baseline.title}” and “${o.later.title}”: ${o.reason}.`));
  }
  return el("div", { id: "outcome", class: "notice" }, head,
    el("p", {}, `The ${o.score} on ${o.level} ${o.key} changed by ${signed(o.difference)} between “${o.baseline.title}” (mean ${o.mean_before.toFixed(2).replace("-", "−")}, n = ${o.n_before}) and “${o.later.title}” (mean ${o.mean_after.toFixed(2).replace("-", "−")}, n = ${o.n_after})`,
      o.ci_low !== null ? `; 95% Welch interval ${signed(o.ci_low)} to ${signed(o.ci_high)}.` : "."),
    el("p", {}, `Declared expected change: ${signed(o.expected_change, 1)}. `,
      o.expected_met === true ? "The interval shows it was reached." : o.expected_met === false ? "The interval shows it was not reached." : "The interval cannot tell whether it was reached."),
    el("details", {}, el("summary", {}, "How the verdict is decided"), el("p", {}, o.method)));
}

function facts(item) {
  const rows = [
    ["Status", el("span", { class: `status status-${item.status}`, id: "item-status" }, LABELS[item.status])],
    ["Service", item.service.name],
    ["Owner", item.owner.name],
    ["Due", [item.due_on, item.overdue ? el("strong", {}, " (overdue)") : null]],
    ["Source", item.source === "candidate"
      ? [`Ranked candidate of a wave: ${item.target_level} ${item.target_key}. `, el("a", { href: `/waves/${item.campaign_id}` }, "The wave")]
      : "A feedback thread"],
    ["Expected effect", item.expected
      ? [`${item.expected.level} ${item.expected.key}: gap change ${signed(item.expected.change, 1)}`, item.status !== "proposed" ? el("span", { class: "muted" }, " (locked)") : null]
      : "not declared yet"],
  ];
  if (item.candidate) rows.push(["Why it was ranked", item.candidate.reason]);
  if (item.wont_do_reason) rows.push(["Why not", item.wont_do_reason]);
  if (item.description) rows.push(["Description", item.description]);
  if (item.internal_notes) rows.push(["Internal notes (staff only)", item.internal_notes]);
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
          show(message, el("p", { class: "alert", role: "alert" }, "Say why it won’t be done."));
          return reason.focus();
        }
        body.reason = reason.value.trim();
      }
      const result = await fetchJson(`/api/actions/${actionId}/status`, { method: "POST", json: body });
      if (!result.ok) return show(message, el("p", { class: "alert", role: "alert" }, problemText(result, "Could not change the status.")));
      render(result.body, `Status is now ${LABELS[result.body.item.status]}.`);
    },
  }, VERBS[status]));
  return el("section", { "aria-labelledby": "move-heading" }, el("h2", { id: "move-heading" }, "Move it on"),
    el("div", { class: "actions" }, buttons),
    detail.allowed.includes("wont_do") ? el("div", { class: "field" }, el("label", { for: "wont-do-reason" }, "Reason, if it won’t be done"), reason) : null);
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
    el("div", { class: "field" }, el("label", { for: "e-title" }, "Title"), f.title),
    el("div", { class: "field" }, el("label", { for: "e-description" }, "Description (shown to members once accepted)"), f.description),
    el("div", { class: "field" }, el("label", { for: "e-notes" }, "Internal notes (staff only)"), f.internal_notes),
    el("div", { class: "field" }, el("label", { for: "e-due" }, "Due date"), f.due_on),
  ];
  let expected = null;
  if (item.status === "proposed" && item.campaign_id) {
    expected = {
      level: el("select", { id: "e-exp-level" }, ["item", "dimension"].map((l) => el("option", { value: l, selected: (item.expected?.level ?? item.target_level) === l }, l))),
      key: el("input", { id: "e-exp-key", type: "text", value: item.expected?.key ?? item.target_key ?? "" }),
      change: el("input", { id: "e-exp-change", type: "number", step: "0.1", min: "-12", max: "12", value: item.expected?.change ?? "" }),
    };
    fields.push(el("fieldset", {}, el("legend", {}, "Expected effect (locked once accepted)"),
      el("div", { class: "field" }, el("label", { for: "e-exp-level" }, "Level"), expected.level),
      el("div", { class: "field" }, el("label", { for: "e-exp-key" }, "Item or dimension key"), expected.key),
      el("div", { class: "field" }, el("label", { for: "e-exp-change" }, "Expected gap change (e.g. 0.5)"), expected.change)));
  }
  const form = el("form", { id: "edit-form", class: "stack" }, fields, el("button", { type: "submit" }, "Save changes"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { title: f.title.value, description: f.description.value, internal_notes: f.internal_notes.value, due_on: f.due_on.value || null };
    if (expected && expected.key.value && expected.change.value !== "") {
      body.expected = { level: expected.level.value, key: expected.key.value.trim(), change: Number(expected.change.value) };
    }
    const result = await fetchJson(`/api/actions/${actionId}`, { method: "PATCH", json: body });
    if (!result.ok) return show(message, el("p", { class: "alert", role: "alert" }, problemText(result, "Could not save.")));
    render(result.body, "Saved.");
  });
  return el("section", { "aria-labelledby": "edit-heading" }, el("h2", { id: "edit-heading" }, "Edit"), form);
}

function activity(log) {
  const describe = (a) => {
    if (a.kind === "create") return "created it";
    if (a.kind === "status") return `moved it from ${LABELS[a.from_status]} to ${LABELS[a.to_status]}`;
    return `changed ${Object.keys(a.changes).join(", ")}`;
  };
  return el("section", { "aria-labelledby": "log-heading" }, el("h2", { id: "log-heading" }, "Activity"),
    el("div", { class: "table-wrap" }, el("table", { id: "activity" },
      el("caption", { class: "visually-hidden" }, "Every change, who made it and when"),
      el("thead", {}, el("tr", {}, ["When", "Who", "What", "Note"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, log.map((a) => el("tr", {},
        el("td", {}, el("time", { datetime: a.at }, when(a.at))), el("td", {}, a.actor.name), el("td", {}, describe(a)), el("td", {}, a.note)))))));
}

function render(detail, announce = "") {
  const message = el("div", { role: "status", id: "item-message" }, announce ? el("p", { class: "success" }, announce) : null);
  show(box, el("h1", { id: "action-title" }, detail.item.title), message, facts(detail.item),
    el("section", { "aria-labelledby": "outcome-heading" }, el("h2", { id: "outcome-heading" }, "Measured outcome"), outcomeBlock(detail.outcome)),
    statusControls(detail, message), editForm(detail, message), activity(detail.activity));
  box.dataset.ready = "true";
}

const result = await fetchJson(`/api/actions/${actionId}`);
if (result.ok) render(result.body);
else show(box, el("h1", { id: "action-title" }, "Action item"), el("p", { class: "alert", role: "alert" }, problemText(result, "Could not load the action item.")));
