// The survey form's checks before Next and Submit, shown as field errors (lib/field-errors.js).
// A module of its own because the sending (lib/survey-send.js) marks the server's refusals too.
import { showFieldErrors } from "./field-errors.js";
import { t } from "./i18n.js";

/** Problems in one part: [{field, reason}]. */
export function checkPart(section, instrument) {
  const problems = [];
  for (const fieldset of section.querySelectorAll("fieldset.scale[data-field]")) {
    const name = fieldset.dataset.field;
    if (name === "importance") continue;
    if (fieldset.dataset.optional) continue;
    if (!fieldset.querySelector("input:checked")) problems.push({ field: name, reason: t("Choose an answer.") });
  }
  for (const input of section.querySelectorAll("input[data-minutes]")) {
    const raw = input.value.trim();
    if (raw === "" && input.dataset.optional) continue;
    if (!/^\d+$/.test(raw) || Number(raw) > Number(input.dataset.minutes)) {
      problems.push({ field: input.name, reason: t("Give a whole number of minutes from 0 to {max}.", { max: input.dataset.minutes }) });
    }
  }
  if (section.querySelector("#importance-fields") && instrument.importance.kind === "allocation") {
    const total = instrument.importance.total;
    let sum = 0;
    let bad = false;
    for (const d of instrument.dimensions) {
      const raw = section.querySelector(`[name="importance.${d.key}"]`).value.trim();
      if (raw !== "" && !/^\d+$/.test(raw)) bad = true;
      sum += Number.parseInt(raw || "0", 10) || 0;
    }
    if (bad) problems.push({ field: "importance", reason: t("Give whole numbers of points (0 or more).") });
    else if (sum !== total) problems.push({ field: "importance", reason: t("The points add up to {sum}; they must add up to exactly {total}.", { sum, total }) });
  }
  return problems;
}

/** Mark each field and fill the summary, which takes the focus. */
export function markErrors(form, problems, summary, describe) {
  showFieldErrors(form, summary, problems, {
    heading: (all) => (all.length === 1 ? t("One answer needs attention") : t("{count} answers need attention", { count: all.length })),
    label: describe,
  });
}
