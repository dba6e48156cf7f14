// Field errors, one way on every form: the API's problem+json `errors` ([{field, reason}])
// or a form's own checks, shown next to each field (its `.field-error` slot, tied to the
// control with aria-describedby, the control marked aria-invalid) and listed in a summary
// whose links lead to the fields. A field is the element whose `data-field` names it.
import { el, show } from "./base.js";

const CONTROLS = "input, select, textarea";

/**
 * The element for an error's field name; a name the form has no element for falls back to
 * its parent ("owner_ids[2]" -> "owner_ids", "importance.quality" -> "importance").
 */
export function fieldNode(form, name) {
  const parent = /(\[\d+\]|\.[^.[\]]+)$/;
  for (let n = name; ; n = n.replace(parent, "")) {
    const node = form.querySelector(`[data-field="${CSS.escape(n)}"]`);
    if (node) return node;
    if (!parent.test(n)) return null;
  }
}

/** What the error describes: the field itself when it is a control or a group, else its control. */
function described(node) {
  if (node.matches(`${CONTROLS}, fieldset`)) return node;
  return node.querySelector(CONTROLS) || node;
}

function slotOf(node) {
  return node.querySelector(".field-error") || document.getElementById(`${node.id}-error`);
}

/** The controls that answer for the field: itself, or the named controls inside it. */
function controlsOf(node) {
  if (node.matches(CONTROLS)) return [node];
  return [...node.querySelectorAll(CONTROLS)].filter((c) => c.name);
}

function labelOf(target) {
  const text = target.tagName === "FIELDSET"
    ? target.querySelector("legend").textContent
    : document.querySelector(`label[for="${target.id}"]`)?.textContent;
  return text || target.id;
}

function describedBy(target, add, remove) {
  const ids = (target.getAttribute("aria-describedby") || "").split(/\s+/).filter((i) => i && !remove.has(i));
  if (add) ids.push(add);
  if (ids.length) target.setAttribute("aria-describedby", ids.join(" "));
  else target.removeAttribute("aria-describedby");
}

/** Take every field error of `form` away again (and hide the summary, when given). */
export function clearFieldErrors(form, summary = null) {
  if (summary) {
    summary.hidden = true;
    summary.replaceChildren();
  }
  const slots = new Set();
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
    slots.add(slot.id);
  }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of form.querySelectorAll("[aria-describedby]")) describedBy(node, null, slots);
}

/**
 * Show `errors` on their fields and in `summary`, then focus the summary. Options:
 * `heading` (text, or a function of the errors), `level` of the heading, `fallback` text
 * when no error names a field, and `label(field, target)` for the summary's link text
 * (default: the field's label or legend).
 */
export function showFieldErrors(form, summary, errors, { heading, level = "h2", fallback = "", label = null }) {
  const items = [];
  for (const { field: name, reason } of errors) {
    const node = fieldNode(form, name);
    const slot = node && slotOf(node);
    if (slot) {
      const target = described(node);
      slot.textContent = slot.hidden ? reason : `${slot.textContent} ${reason}`;
      slot.hidden = false;
      for (const control of controlsOf(node)) control.setAttribute("aria-invalid", "true");
      describedBy(target, slot.id, new Set([slot.id]));
      const text = label ? label(name, target) : labelOf(target);
      items.push(el("li", {}, el("a", { href: `#${node.id || target.id}` }, `${text}: ${reason}`)));
    } else {
      items.push(el("li", {}, `${name}: ${reason}`));
    }
  }
  show(summary, el(level, {}, typeof heading === "function" ? heading(errors) : heading),
    items.length ? el("ul", {}, items) : el("p", {}, fallback));
  summary.hidden = false;
  summary.focus();
}
