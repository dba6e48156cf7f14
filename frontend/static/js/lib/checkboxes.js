// Checkbox lists (owners, group members, a webhook's switch): a fieldset whose ticked values
// a form sends, with a search box for long lists. Apart from lib/forms.js so that a page
// loads them only where it shows one (issue 19: light pages).
import { el } from "./base.js";
import { formatNumber, t } from "./i18n.js";

/**
 * A fieldset of checkboxes. `options`: [{value, label, checked}]. A long list scrolls inside
 * the fieldset; `filter` adds a search box that hides the options not matching it.
 */
export function checkboxes({ id, legend, name, options, hint = null, filter = false }) {
  const labels = options.map((o) => el("label", { class: "check", "data-text": o.label.toLowerCase() },
    el("input", { type: "checkbox", name, value: o.value, checked: Boolean(o.checked) }), o.label));
  const count = el("p", { class: "hint", id: `${id}-count`, "aria-live": "polite" });
  const fieldset = el("fieldset", { class: "checks", id, "data-field": name, "aria-describedby": hint ? `${id}-hint` : null },
    el("legend", {}, legend),
    hint ? el("span", { class: "hint", id: `${id}-hint` }, hint) : null,
    filter ? searchBox(id, labels, count) : null,
    filter ? count : null,
    el("div", { class: filter ? "scroll" : null }, labels),
    el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
  if (filter) {
    const update = () => countText(count, labels);
    fieldset.addEventListener("change", update);
    update();
  }
  return fieldset;
}

function searchBox(id, labels, count) {
  const input = el("input", { type: "search", id: `${id}-search`, autocomplete: "off", "aria-controls": id });
  input.addEventListener("input", () => {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    for (const label of labels) label.hidden = !words.every((w) => label.dataset.text.includes(w));
    countText(count, labels);
  });
  return el("div", { class: "field" }, el("label", { for: input.id }, t("Find accounts")),
    el("span", { class: "hint", id: `${id}-search-hint` }, t("Type part of a name or email; ticked accounts stay ticked when hidden.")),
    input);
}

function countText(node, labels) {
  const shown = labels.filter((l) => !l.hidden).length;
  const ticked = labels.filter((l) => l.querySelector("input").checked).length;
  node.textContent = t("{ticked} selected · {shown} of {total} shown", { ticked: formatNumber(ticked), shown: formatNumber(shown), total: formatNumber(labels.length) });
}

/** The values of a checkbox fieldset's ticked boxes. */
export function ticked(fieldset) {
  return [...fieldset.querySelectorAll('input[type="checkbox"]:checked')].map((i) => i.value);
}
