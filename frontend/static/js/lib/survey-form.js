// The survey form (pages/survey.js loads it with import() once the wave is open): renders
// any instrument (expectation-perception, zone-of-tolerance, perception-only; allocation or
// rating importance; satisfaction; IT experience measures; free text) one part at a time,
// in the language picked, checks each part (lib/survey-check.js), keeps the answers in progress
// in this browser (lib/store.js `drafts`), and reads the answers for sending (lib/survey-send.js,
// loaded with the form).
import { el, show } from "./base.js";
import { clearFieldErrors, fieldNode } from "./field-errors.js";
import { drafts } from "./store.js";
import { checkPart, markErrors } from "./survey-check.js";
import { t } from "./i18n.js";

const root = document.getElementById("survey");
const campaignId = root.dataset.campaignId;

const COLUMN_NAMES = {
  expectation: t("Expectation"),
  perception: t("Perception"),
  minimum: t("Minimum"),
  desired: t("Desired"),
};
const FORMAT_COLUMNS = {
  "expectation-perception": ["expectation", "perception"],
  "zone-of-tolerance": ["minimum", "desired", "perception"],
  "perception-only": ["perception"],
};

// --- rendering ----------------------------------------------------------------------

let fieldCount = 0;

/** A radio scale 1..points (+ N/A) for answer field `name`; returns the fieldset. */
function scale(name, legend, points, { low, high, allowNull = false, nullLabel = "", column = "", optional = false }) {
  const id = `f${++fieldCount}`;
  const anchors = `${id}-anchors`;
  const error = `${id}-error`;
  const options = [];
  for (let p = 1; p <= points; p++) {
    const extra = p === 1 ? `, ${low}` : p === points ? `, ${high}` : "";
    options.push(el("label", {},
      el("input", { type: "radio", name, value: String(p) }),
      el("span", { "aria-hidden": "true" }, String(p)),
      el("span", { class: "visually-hidden" }, `${p}${extra}`)));
  }
  if (allowNull) {
    options.push(el("label", { class: "na" }, el("input", { type: "radio", name, value: "na" }), nullLabel));
  }
  return el("fieldset", { class: "scale", id, "data-field": name, "data-optional": optional ? "true" : null, "aria-describedby": anchors },
    el("legend", {}, column ? el("span", { class: "column" }, column) : null, legend, optional ? el("span", { class: "hint" }, ` ${t("(optional)")}`) : null),
    el("div", { class: "points" }, options),
    el("p", { class: "anchors", id: anchors }, el("span", {}, `1 = ${low}`), el("span", {}, `${points} = ${high}`)),
    el("p", { class: "field-error", id: error, hidden: true }));
}

function itemsPart(instrument, dimension, columns, numbers) {
  const items = instrument.items.filter((i) => i.dimension === dimension.key);
  const s = instrument.scale;
  return {
    title: dimension.title,
    body: [
      dimension.description ? el("p", { class: "section-intro" }, dimension.description) : null,
      items.map((item) => el("div", { class: "item", id: `item-${item.key}` },
        el("h3", {}, t("Statement {number} of {count}", { number: numbers.get(item.key), count: instrument.items.length })),
        columns.map((column) => scale(`items.${item.key}.${column}`, item.statements[column] || item.statements.perception, s.points, {
          low: s.low_label, high: s.high_label, allowNull: s.allow_not_applicable, nullLabel: s.not_applicable_label,
          column: columns.length > 1 ? COLUMN_NAMES[column] : "",
        })))),
    ],
  };
}

function allocationPart(instrument) {
  const importance = instrument.importance;
  const total = importance.total;
  const remaining = el("p", { class: "remaining", id: "remaining", "aria-live": "polite" });
  const inputs = instrument.dimensions.map((d) => el("input", {
    type: "number", id: `importance-${d.key}`, name: `importance.${d.key}`, min: "0", max: String(total), step: "1",
    inputmode: "numeric", value: "", "aria-describedby": `importance-${d.key}-hint remaining`,
  }));
  const update = () => {
    const used = inputs.reduce((sum, input) => sum + (Number.parseInt(input.value, 10) || 0), 0);
    const left = total - used;
    remaining.textContent = left >= 0
      ? t("Points left to give: {left} of {total}", { left, total })
      : t("Too many points: {over} over {total}", { over: -left, total });
    remaining.classList.toggle("over", left < 0);
  };
  inputs.forEach((input) => input.addEventListener("input", update));
  update();
  const error = el("p", { class: "field-error", id: "importance-error", hidden: true });
  return {
    title: t("What matters most to you"),
    body: [
      el("p", { id: "importance-prompt" }, importance.prompt),
      el("fieldset", { class: "scale", id: "importance-fields", "data-field": "importance", "aria-describedby": "importance-prompt remaining" },
        el("legend", {}, t("Share {total} points among the features", { total })),
        el("div", { class: "allocation" }, instrument.dimensions.map((d, i) => [
          el("label", { for: `importance-${d.key}` }, d.title,
            el("span", { class: "hint", id: `importance-${d.key}-hint` }, d.description ? ` — ${d.description}` : "")),
          inputs[i],
        ])),
        remaining,
        error),
    ],
  };
}

function ratingPart(instrument) {
  const importance = instrument.importance;
  return {
    title: t("What matters most to you"),
    body: [
      el("p", {}, importance.prompt),
      instrument.items.map((item) => el("div", { class: "item" },
        scale(`importance.${item.key}`, item.statements.perception || Object.values(item.statements)[0], instrument.scale.points, {
          low: importance.low_label, high: importance.high_label,
        }))),
    ],
  };
}

function closingPart(instrument) {
  const s = instrument.scale;
  return {
    title: instrument.free_text.length ? t("Overall, and in your own words") : t("Overall"),
    body: [
      instrument.satisfaction.map((item) => el("div", { class: "item" },
        scale(`satisfaction.${item.key}`, item.statement, s.points, { low: s.low_label, high: s.high_label, optional: true }))),
      instrument.free_text.map((prompt) => {
        const id = `comment-${prompt.key}`;
        const characters = (n) => t("{count} of {max} characters", { count: n, max: prompt.max_length });
        const count = el("span", { id: `${id}-count`, class: "hint", "aria-live": "polite" }, characters(0));
        const area = el("textarea", { id, name: `comments.${prompt.key}`, maxlength: String(prompt.max_length), "aria-describedby": `${id}-warn ${id}-count` });
        area.addEventListener("input", () => { count.textContent = characters(area.value.length); });
        return el("div", { class: "field item", "data-field": `comments.${prompt.key}` },
          el("label", { for: id }, prompt.prompt, el("span", { class: "hint" }, ` ${t("(optional)")}`)),
          el("p", { class: "hint", id: `${id}-warn` }, t("Free text can identify you: leave out names, dates and details only you would know.")),
          area, count,
          el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
      }),
    ],
  };
}

/** The IT experience measures: 5- and 7-point scales, minutes lost as a number, 0..10 recommendation. */
function measuresPart(instrument) {
  const RANGES = { csat: [1, 5], effort: [1, 7], nps: [0, 10] };
  const optional = (m) => (m.optional ? el("span", { class: "hint" }, ` ${t("(optional)")}`) : null);
  const fields = instrument.measures.map((m) => {
    const name = `measures.${m.key}`;
    if (m.kind === "csat" || m.kind === "effort") {
      return el("div", { class: "item" }, scale(name, m.statement, RANGES[m.kind][1], { low: m.labels[0], high: m.labels[m.labels.length - 1], optional: m.optional }));
    }
    const id = `f${++fieldCount}`;
    if (m.kind === "minutes") {
      return el("div", { class: "field item", "data-field": name },
        el("label", { for: id }, m.statement, optional(m)),
        el("input", { type: "number", id, name, min: "0", max: String(m.max), step: "1", inputmode: "numeric",
          "data-minutes": String(m.max), "data-optional": m.optional ? "true" : null, "aria-describedby": `${id}-hint ${id}-error` }),
        el("p", { class: "hint", id: `${id}-hint` }, t("Minutes, a whole number from 0 to {max}; a rough estimate is fine.", { max: m.max })),
        el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
    }
    const options = [];
    for (let p = 0; p <= 10; p++) {
      const extra = p === 0 ? `, ${m.labels[0]}` : p === 10 ? `, ${m.labels[1]}` : "";
      options.push(el("label", {}, el("input", { type: "radio", name, value: String(p) }),
        el("span", { "aria-hidden": "true" }, String(p)), el("span", { class: "visually-hidden" }, `${p}${extra}`)));
    }
    return el("div", { class: "item" }, el("fieldset", { class: "scale", id, "data-field": name, "data-optional": m.optional ? "true" : null, "aria-describedby": `${id}-anchors` },
      el("legend", {}, m.statement, optional(m)),
      el("div", { class: "points" }, options),
      el("p", { class: "anchors", id: `${id}-anchors` }, el("span", {}, `0 = ${m.labels[0]}`), el("span", {}, `10 = ${m.labels[1]}`)),
      el("p", { class: "field-error", id: `${id}-error`, hidden: true })));
  });
  return { title: t("Your experience of the service"), body: fields };
}

function reviewPart(wave) {
  return {
    title: t("Who sees what, and sending"),
    body: [
      el("div", { class: "notice", id: "who-sees-what" },
        el("h3", {}, t("Who sees what")),
        el("ul", {},
          el("li", {}, t("Scores from this wave are shown to managers and to the owners of {service} only once at least {k} people have answered; below that they are suppressed.", { service: wave.service.name, k: wave.k_scores })),
          el("li", {}, t("Comments are shown only once at least {k} people have answered, and only to the managers and the owners of {service}.", { service: wave.service.name, k: wave.k_comments })),
          el("li", {}, t("The server stores your answers with a random id and the wave — no name, no account, no date or time, no address; within the hour even the order in which answers arrived is erased.")),
          el("li", {}, t("Your answer is sent without your cookies, after a short random wait, with the anonymous token this browser got when you signed in.")),
          el("li", {}, t("Until you submit, your answers are kept in this browser only, so you can continue later; they are deleted once your answer is received, or when you sign out."))),
        el("p", {}, el("a", { href: "/privacy" }, t("How this works, and its limits")))),
    ],
  };
}

// --- reading answers -----------------------------------------------------------------

function collect(form, instrument) {
  const answers = { items: {} };
  for (const item of instrument.items) {
    answers.items[item.key] = {};
    for (const column of FORMAT_COLUMNS[instrument.format]) {
      answers.items[item.key][column] = radioValue(form, `items.${item.key}.${column}`);
    }
  }
  if (instrument.importance) {
    answers.importance = {};
    if (instrument.importance.kind === "allocation") {
      for (const d of instrument.dimensions) {
        const raw = form.elements[`importance.${d.key}`].value.trim();
        answers.importance[d.key] = raw === "" ? 0 : Number(raw);
      }
    } else {
      for (const item of instrument.items) answers.importance[item.key] = radioValue(form, `importance.${item.key}`);
    }
  }
  const satisfaction = {};
  for (const item of instrument.satisfaction) {
    const v = radioValue(form, `satisfaction.${item.key}`);
    if (v !== undefined && v !== null) satisfaction[item.key] = v;
  }
  if (Object.keys(satisfaction).length) answers.satisfaction = satisfaction;
  const comments = {};
  for (const prompt of instrument.free_text) {
    const text = form.elements[`comments.${prompt.key}`].value.trim();
    if (text) comments[prompt.key] = text;
  }
  if (Object.keys(comments).length) answers.comments = comments;
  if (instrument.measures && instrument.measures.length) {
    answers.measures = {};
    for (const m of instrument.measures) {
      const raw = m.kind === "minutes" ? form.elements[`measures.${m.key}`].value.trim() : radioValue(form, `measures.${m.key}`);
      if (raw !== undefined && raw !== "") answers.measures[m.key] = Number(raw);
    }
  }
  return answers;
}

/** 1..n, null for N/A, undefined when nothing is chosen. */
function radioValue(form, name) {
  const chosen = form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
  if (!chosen) return undefined;
  return chosen.value === "na" ? null : Number(chosen.value);
}

// --- answers in progress ---------------------------------------------------------------

/** Every answer field's current value by name: the draft, and what survives a language switch. */
function readForm(form) {
  const values = {};
  for (const input of form.querySelectorAll("input[name], textarea[name], select[name]")) {
    if (input.type === "radio" || input.type === "checkbox") {
      if (input.checked) values[input.name] = input.value;
    } else if (input.value !== "") {
      values[input.name] = input.value;
    }
  }
  return values;
}

/** Put saved values back; text fields announce it so counters and sums update. */
function fillForm(form, values) {
  for (const [name, value] of Object.entries(values || {})) {
    for (const input of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (input.type === "radio" || input.type === "checkbox") {
        input.checked = input.value === value;
      } else {
        input.value = value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
  }
}

/** A language's name in that language ("Deutsch", "English"); the tag when the browser does not know it. */
function languageName(tag) {
  try {
    const name = new Intl.DisplayNames([tag], { type: "language" }).of(tag);
    return name ? name.charAt(0).toLocaleUpperCase(tag) + name.slice(1) : tag;
  } catch {
    return tag;
  }
}

// --- the form ------------------------------------------------------------------------------

function buildParts(wave, instrument, numbers) {
  const columns = FORMAT_COLUMNS[instrument.format];
  const parts = instrument.dimensions
    .filter((d) => instrument.items.some((i) => i.dimension === d.key))
    .map((d) => itemsPart(instrument, d, columns, numbers));
  if (instrument.importance) parts.push(instrument.importance.kind === "allocation" ? allocationPart(instrument) : ratingPart(instrument));
  if (instrument.measures && instrument.measures.length) parts.push(measuresPart(instrument));
  if (instrument.satisfaction.length || instrument.free_text.length) parts.push(closingPart(instrument));
  parts.push(reviewPart(wave));
  return parts;
}

/** The whole form in `lang`, filled with `values`, showing part `startPart`. */
export function renderSurvey(wave, token, loaded, lang, values, startPart) {
  const instrument = loaded.byLanguage[lang];
  const numbers = new Map(instrument.items.map((item, i) => [item.key, i + 1]));
  const parts = buildParts(wave, instrument, numbers);

  const describe = (field) => {
    const [section, key, column] = field.split(".");
    if (section === "items") {
      const statement = t("Statement {number}", { number: numbers.get(key) ?? key });
      return column ? `${statement}, ${(COLUMN_NAMES[column] || column).toLowerCase()}` : statement;
    }
    if (section === "importance") return t("Importance");
    if (section === "satisfaction") return t("Overall");
    if (section === "measures") return t("Your experience");
    return t("Comment");
  };

  const progressText = el("p", { id: "progress-text" });
  const progress = el("progress", { max: String(parts.length), value: "1", "aria-labelledby": "progress-text" });
  const summary = el("div", { class: "alert", id: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const status = el("div", { id: "send-status", role: "status", "aria-live": "polite" });
  const back = el("button", { type: "button", class: "secondary", id: "back" }, t("Back"));
  const next = el("button", { type: "button", id: "next" }, t("Next"));
  const submit = el("button", { type: "submit", id: "submit" }, t("Submit anonymously"));
  const sections = parts.map((part, i) => el("section", { class: "part", "aria-labelledby": `part-${i}-title`, hidden: i > 0 },
    el("h2", { id: `part-${i}-title`, tabindex: "-1" }, part.title), part.body));
  const form = el("form", { id: "survey-form", novalidate: true, lang: instrument.language }, summary, sections,
    el("div", { class: "actions" }, back, next, submit), status);

  // The picker sits outside the form: it is not an answer, and readForm() never sees it.
  let picker = null;
  if (loaded.languages.length > 1) {
    const select = el("select", { id: "survey-language" },
      loaded.languages.map((l) => el("option", { value: l, lang: l, selected: l === lang ? true : null }, languageName(l))));
    select.value = lang;
    picker = el("p", { class: "field language-picker" },
      el("label", { for: "survey-language" }, t("Language of the questions")), " ", select);
    select.addEventListener("change", () => {
      const kept = readForm(form);
      renderSurvey(wave, token, loaded, select.value, kept, current);
      saveDraft(select.value, current, kept);
      document.getElementById("survey-language").focus();
    });
  }

  show(root,
    el("h1", { id: "survey-title" }, wave.title),
    el("p", { class: "muted" }, t("{service} · {instrument} · open until {date}", { service: wave.service.name, instrument: instrument.title, date: wave.closes_on })),
    wave.description ? el("p", {}, wave.description) : null,
    picker,
    el("div", { class: "progress" }, progressText, progress),
    form);

  let current = 0;
  const saveDraft = (language, part, answers) =>
    drafts.put({ campaignId, lang: language, part, values: answers }).catch(() => {});
  const go = (index, focus = true) => {
    current = index;
    sections.forEach((s, i) => { s.hidden = i !== index; });
    progressText.textContent = t("Part {number} of {count}: {title}", { number: index + 1, count: parts.length, title: parts[index].title });
    progress.value = index + 1;
    back.hidden = index === 0;
    next.hidden = index === parts.length - 1;
    submit.hidden = index !== parts.length - 1;
    if (focus) sections[index].querySelector("h2").focus();
  };
  fillForm(form, values);
  go(Math.min(Math.max(Number(startPart) || 0, 0), parts.length - 1), false);

  // The sending code loads now, in the background, never at Submit: fetching a module then
  // would be a signed-in request marking the very moment the random delay hides.
  const sender = import("./survey-send.js");
  sender.catch(() => {}); // a failure to load it shows at Submit, where it is awaited
  let sending = false;
  let received = false;
  const keep = () => { if (!received) saveDraft(lang, current, readForm(form)); };
  form.addEventListener("input", keep);
  form.addEventListener("change", keep);

  back.addEventListener("click", () => { summary.hidden = true; go(current - 1); keep(); });
  next.addEventListener("click", () => {
    clearFieldErrors(form);
    const problems = checkPart(sections[current], instrument);
    if (problems.length) return markErrors(form, problems, summary, describe);
    summary.hidden = true;
    go(current + 1);
    keep();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    clearFieldErrors(form);
    // Every part again: a part may have been skipped with Back/Next.
    for (let i = 0; i < sections.length; i++) {
      const problems = checkPart(sections[i], instrument);
      if (problems.length) {
        go(i, false);
        return markErrors(form, problems, summary, describe);
      }
    }
    summary.hidden = true;
    sending = true;
    submit.disabled = back.disabled = true;
    try {
      const { send } = await sender;
      received = await send(wave, instrument, token, collect(form, instrument), { form, summary, status, describe, goToField: (field) => {
        const node = fieldNode(form, field);
        const index = sections.findIndex((s) => node && s.contains(node));
        if (index >= 0) go(index, false);
      } });
    } finally {
      sending = false;
      submit.disabled = back.disabled = false;
    }
  });
}
