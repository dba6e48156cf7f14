// What the forms share: labelled fields, a form that saves through the JSON API with its
// field errors (lib/field-errors.js), and a status line next to its button. Checkbox lists
// are in lib/checkboxes.js, so that a page loads them only where it shows one.
import { el, fetchJson, problemText, show } from "./base.js";
import { clearFieldErrors, showFieldErrors } from "./field-errors.js";
import { formatNumber, t } from "./i18n.js";

const PLAIN = { useGrouping: false };  // a bound to type in, as the input takes it

/** A labelled field. The input is described by its hint and, after a failed save, its error. */
export function field(input, label, hint) {
  const hintNode = hint ? el("span", { class: "hint", id: `${input.id}-hint` }, hint) : null;
  if (hintNode) input.setAttribute("aria-describedby", hintNode.id);
  return el("div", { class: "field" },
    el("label", { for: input.id }, label), hintNode, input,
    el("p", { class: "field-error", id: `${input.id}-error`, hidden: true }));
}

/** Replace a status line's text with a success message (its role=status region announces it). */
export function say(node, text, kind = "success") {
  show(node, text ? el("p", { class: kind }, text) : null);
}

/**
 * A form that saves through the JSON API. `check()` returns local field errors (same
 * shape as the API's); `request()` returns [url, fetch options]; `done(body)` runs on
 * success. A 409 without field errors is put on `conflictField` when given.
 */
export function apiForm({ id, heading, fields, button, check = () => [], request, done, conflictField = null }) {
  const summary = el("div", { class: "alert", role: "alert", tabindex: "-1", hidden: true, id: `${id}-errors` });
  const status = el("div", { class: "form-status", role: "status", id: `${id}-status` });
  const form = el("form", { id, class: "stack", novalidate: true }, summary, fields,
    el("div", { class: "actions" }, el("button", { type: "submit" }, button)), status);
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    clearFieldErrors(form, summary);
    say(status, "");
    const local = check();
    if (local.length) return showFieldErrors(form, summary, local, { heading, level: "h3" });
    busy = true;
    form.setAttribute("aria-busy", "true");
    const [url, options] = request();
    const result = await fetchJson(url, options);
    busy = false;
    form.removeAttribute("aria-busy");
    if (result.ok) return done(result.body, status);
    let errors = (result.body && result.body.errors) || [];
    if (!errors.length && result.status === 409 && conflictField) errors = [{ field: conflictField, reason: result.body.detail }];
    showFieldErrors(form, summary, errors, { heading, level: "h3", fallback: problemText(result, t("Could not save.")) });
  });
  return form;
}

/** Local checks shared by the forms: required text, and whole numbers in a range. */
export function required(input, name, errors) {
  if (!input.value.trim()) errors.push({ field: name, reason: t("Required.") });
}

export function wholeNumber(input, name, min, max, errors) {
  const value = Number(input.value);
  if (!/^\d+$/.test(input.value.trim()) || value < min || value > max) {
    errors.push({ field: name, reason: t("A whole number from {min} to {max}.", { min: formatNumber(min, PLAIN), max: formatNumber(max, PLAIN) }) });
  }
}

/** A labelled input with `data-field` naming the API field its errors come back under. */
export function input(id, name, attrs = {}) {
  const tag = attrs.multiline ? "textarea" : "input";
  const { multiline, ...rest } = attrs;
  return el(tag, { id, name, "data-field": name, ...(multiline ? {} : { type: "text" }), ...rest });
}

/** The editing panel: heading (focused when opened) and a close button that hands focus back. */
export function openPanel(section, title, parts, onClose) {
  const heading = el("h2", { id: `${section.id}-heading`, tabindex: "-1" }, title);
  const close = el("button", { type: "button", class: "secondary" }, t("Close"));
  close.addEventListener("click", () => {
    section.hidden = true;
    section.replaceChildren();
    onClose();
  });
  show(section, heading, parts, el("div", { class: "actions" }, close));
  section.classList.add("card");
  section.hidden = false;
  heading.focus();
}

/** An action behind a confirmation: the first button reveals the text and the real button. */
export function confirmed({ label, text, confirmLabel, action }) {
  const box = el("div", { class: "alert", hidden: true, tabindex: "-1" });
  const first = el("button", { type: "button", class: "secondary" }, label);
  const yes = el("button", { type: "button" }, confirmLabel);
  const no = el("button", { type: "button", class: "secondary" }, t("Cancel"));
  const result = el("div", { role: "status" });
  show(box, el("p", {}, text), el("div", { class: "actions" }, yes, no));
  first.addEventListener("click", () => { box.hidden = false; first.hidden = true; box.focus(); });
  no.addEventListener("click", () => { box.hidden = true; first.hidden = false; first.focus(); });
  yes.addEventListener("click", async () => {
    const failure = await action();
    if (failure) say(result, failure, "alert");
  });
  return el("div", {}, first, box, result);
}
