// The survey form: renders any instrument (expectation-perception, zone-of-tolerance,
// perception-only; allocation or rating importance; satisfaction; free text) one part at
// a time, and sends the answer anonymously: after a short random delay, with the wave's
// token, without cookies (credentials: "omit").

import { formatAuthorization } from "../lib/privacypass.js";
import { el, fetchJson, problemText, show, today } from "../lib/base.js";
import { KeyMismatchError, ensureTokens, publishedKey, waveKeyUrl } from "../lib/tokens.js";
import { logAlarm } from "../lib/transparency.js";
import { clearFieldErrors, fieldNode, showFieldErrors } from "../lib/field-errors.js";
import { receipts, waveTokens } from "../lib/store.js";

const root = document.getElementById("survey");
const campaignId = root.dataset.campaignId;

const COLUMN_NAMES = {
  expectation: "Expectation",
  perception: "Perception",
  minimum: "Minimum",
  desired: "Desired",
};
const FORMAT_COLUMNS = {
  "expectation-perception": ["expectation", "perception"],
  "zone-of-tolerance": ["minimum", "desired", "perception"],
  "perception-only": ["perception"],
};
// Random delay before sending, so that pressing "Submit" and the server's receipt of the
// answer are not the same moment.
const DELAY_MS = [1000, 4000];

function fail(message) {
  show(root, el("h1", {}, "Survey"), el("div", { class: "alert", role: "alert" }, el("p", {}, message)),
    el("p", {}, el("a", { href: "/surveys" }, "Back to open surveys")));
}

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
    el("legend", {}, column ? el("span", { class: "column" }, column) : null, legend, optional ? el("span", { class: "hint" }, " (optional)") : null),
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
        el("h3", {}, `Statement ${numbers.get(item.key)} of ${instrument.items.length}`),
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
    remaining.textContent = left >= 0 ? `Points left to give: ${left} of ${total}` : `Too many points: ${-left} over ${total}`;
    remaining.classList.toggle("over", left < 0);
  };
  inputs.forEach((input) => input.addEventListener("input", update));
  update();
  const error = el("p", { class: "field-error", id: "importance-error", hidden: true });
  return {
    title: "What matters most to you",
    body: [
      el("p", { id: "importance-prompt" }, importance.prompt),
      el("fieldset", { class: "scale", id: "importance-fields", "data-field": "importance", "aria-describedby": "importance-prompt remaining" },
        el("legend", {}, `Share ${total} points among the features`),
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
    title: "What matters most to you",
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
    title: instrument.free_text.length ? "Overall, and in your own words" : "Overall",
    body: [
      instrument.satisfaction.map((item) => el("div", { class: "item" },
        scale(`satisfaction.${item.key}`, item.statement, s.points, { low: s.low_label, high: s.high_label, optional: true }))),
      instrument.free_text.map((prompt) => {
        const id = `comment-${prompt.key}`;
        const count = el("span", { id: `${id}-count`, class: "hint", "aria-live": "polite" }, `0 of ${prompt.max_length} characters`);
        const area = el("textarea", { id, name: `comments.${prompt.key}`, maxlength: String(prompt.max_length), "aria-describedby": `${id}-warn ${id}-count` });
        area.addEventListener("input", () => { count.textContent = `${area.value.length} of ${prompt.max_length} characters`; });
        return el("div", { class: "field item", "data-field": `comments.${prompt.key}` },
          el("label", { for: id }, prompt.prompt, el("span", { class: "hint" }, " (optional)")),
          el("p", { class: "hint", id: `${id}-warn` }, "Free text can identify you: leave out names, dates and details only you would know."),
          area, count,
          el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
      }),
    ],
  };
}

function reviewPart(wave) {
  return {
    title: "Who sees what, and sending",
    body: [
      el("div", { class: "notice", id: "who-sees-what" },
        el("h3", {}, "Who sees what"),
        el("ul", {},
          el("li", {}, `Scores from this wave are shown to managers and to the owners of ${wave.service.name} only once at least ${wave.k_scores} people have answered; below that they are suppressed.`),
          el("li", {}, `Comments are shown only once at least ${wave.k_comments} people have answered, and only to the managers and the owners of ${wave.service.name}.`),
          el("li", {}, "The server stores your answers with a random id and the wave — no name, no account, no date or time, no address; within the hour even the order in which answers arrived is erased."),
          el("li", {}, "Your answer is sent without your cookies, after a short random wait, with the anonymous token this browser got when you signed in.")),
        el("p", {}, el("a", { href: "/privacy" }, "How this works, and its limits"))),
    ],
  };
}

// --- reading and checking answers -----------------------------------------------------

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
  return answers;
}

/** 1..n, null for N/A, undefined when nothing is chosen. */
function radioValue(form, name) {
  const chosen = form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
  if (!chosen) return undefined;
  return chosen.value === "na" ? null : Number(chosen.value);
}

/** Problems in one part: [{field, reason}]. */
function checkPart(section, instrument) {
  const problems = [];
  for (const fieldset of section.querySelectorAll("fieldset.scale[data-field]")) {
    const name = fieldset.dataset.field;
    if (name === "importance") continue;
    if (fieldset.dataset.optional) continue;
    if (!fieldset.querySelector("input:checked")) problems.push({ field: name, reason: "Choose an answer." });
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
    if (bad) problems.push({ field: "importance", reason: "Give whole numbers of points (0 or more)." });
    else if (sum !== total) problems.push({ field: "importance", reason: `The points add up to ${sum}; they must add up to exactly ${total}.` });
  }
  return problems;
}

/** Mark each field and fill the summary, which takes the focus. */
function markErrors(form, problems, summary, describe) {
  showFieldErrors(form, summary, problems, {
    heading: (all) => (all.length === 1 ? "One answer needs attention" : `${all.length} answers need attention`),
    label: describe,
  });
}

// --- the page -----------------------------------------------------------------------------

async function main() {
  const waveResult = await fetchJson(`/api/campaigns/${campaignId}`);
  if (!waveResult.ok) return fail(waveResult.status === 404 ? "This survey does not exist or is not open to you." : problemText(waveResult, "Could not load the survey."));
  const wave = waveResult.body;
  if (wave.status !== "open") return fail("This survey is not open for answers.");
  const instrumentResult = await fetchJson(`/api/instruments/${encodeURIComponent(wave.instrument_id)}?hash=${encodeURIComponent(wave.instrument_hash)}`);
  if (!instrumentResult.ok) return fail(problemText(instrumentResult, "Could not load the questions."));
  const instrument = instrumentResult.body.instrument;

  const { tokens } = await ensureTokens();
  const token = tokens.get(campaignId) || (await waveTokens.get(campaignId));
  if (token && token.state === "log-failure") {
    return show(root, el("h1", {}, wave.title), logAlarm(token.error), el("p", {}, el("a", { href: "/surveys" }, "Back to open surveys")));
  }
  if (!token || token.state !== "ready") {
    const why = {
      spent: "You have already answered this survey from this browser. Your receipt is on the Receipts page.",
      "issued-elsewhere": "Your token for this survey was given to another browser or device; answer from there.",
      "key-mismatch": "The survey's signing key is not the one it published, so this browser will not use it. Tell the survey's manager.",
    };
    return fail(why[token && token.state] || "This browser has no token for this survey yet. Reload the page to try again.");
  }

  const columns = FORMAT_COLUMNS[instrument.format];
  const numbers = new Map(instrument.items.map((item, i) => [item.key, i + 1]));
  const parts = instrument.dimensions
    .filter((d) => instrument.items.some((i) => i.dimension === d.key))
    .map((d) => itemsPart(instrument, d, columns, numbers));
  if (instrument.importance) parts.push(instrument.importance.kind === "allocation" ? allocationPart(instrument) : ratingPart(instrument));
  if (instrument.satisfaction.length || instrument.free_text.length) parts.push(closingPart(instrument));
  parts.push(reviewPart(wave));

  const describe = (field) => {
    const [section, key, column] = field.split(".");
    if (section === "items") return `Statement ${numbers.get(key) ?? key}${column ? `, ${(COLUMN_NAMES[column] || column).toLowerCase()}` : ""}`;
    if (section === "importance") return "Importance";
    if (section === "satisfaction") return "Overall";
    return "Comment";
  };

  const progressText = el("p", { id: "progress-text" });
  const progress = el("progress", { max: String(parts.length), value: "1", "aria-labelledby": "progress-text" });
  const summary = el("div", { class: "alert", id: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const status = el("div", { id: "send-status", role: "status", "aria-live": "polite" });
  const back = el("button", { type: "button", class: "secondary", id: "back" }, "Back");
  const next = el("button", { type: "button", id: "next" }, "Next");
  const submit = el("button", { type: "submit", id: "submit" }, "Submit anonymously");
  const sections = parts.map((part, i) => el("section", { class: "part", "aria-labelledby": `part-${i}-title`, hidden: i > 0 },
    el("h2", { id: `part-${i}-title`, tabindex: "-1" }, part.title), part.body));
  const form = el("form", { id: "survey-form", novalidate: true }, summary, sections,
    el("div", { class: "actions" }, back, next, submit), status);

  show(root,
    el("h1", { id: "survey-title" }, wave.title),
    el("p", { class: "muted" }, `${wave.service.name} · ${instrument.title} · open until ${wave.closes_on}`),
    wave.description ? el("p", {}, wave.description) : null,
    el("div", { class: "progress" }, progressText, progress),
    form);

  let current = 0;
  const go = (index, focus = true) => {
    current = index;
    sections.forEach((s, i) => { s.hidden = i !== index; });
    progressText.textContent = `Part ${index + 1} of ${parts.length}: ${parts[index].title}`;
    progress.value = index + 1;
    back.hidden = index === 0;
    next.hidden = index === parts.length - 1;
    submit.hidden = index !== parts.length - 1;
    if (focus) sections[index].querySelector("h2").focus();
  };
  go(0, false);

  back.addEventListener("click", () => { summary.hidden = true; go(current - 1); });
  next.addEventListener("click", () => {
    clearFieldErrors(form);
    const problems = checkPart(sections[current], instrument);
    if (problems.length) return markErrors(form, problems, summary, describe);
    summary.hidden = true;
    go(current + 1);
  });

  let sending = false;
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
      await send(wave, instrument, token, collect(form, instrument), { form, summary, status, describe, goToField: (field) => {
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

function say(status, kind, ...text) {
  show(status, el("div", { class: kind, role: kind === "alert" ? "alert" : null, tabindex: "-1" }, el("p", {}, ...text)));
  status.firstChild.focus();
}

async function send(wave, instrument, token, answers, ui) {
  const { status } = ui;
  // Key consistency: the key the token was issued under must still be the one the wave publishes.
  try {
    const key = await publishedKey(waveKeyUrl(wave.id), token.keyId);
    if (!key.keyId) {
      if (key.result.networkError) return say(status, "alert", "Could not reach the server. Your answers are still here and your token is unused; try again.");
      return say(status, "alert", "This survey is not accepting answers now (its key is not published). Your token is unused.");
    }
  } catch (err) {
    if (err instanceof KeyMismatchError) {
      await waveTokens.put({ ...token, state: "key-mismatch" });
      return say(status, "alert", "Not sent: the survey's published key id differs from the one your token was issued under. This could single you out, so your browser refuses to answer. Tell the survey's manager.");
    }
    throw err;
  }
  const delay = DELAY_MS[0] + Math.floor(Math.random() * (DELAY_MS[1] - DELAY_MS[0]));
  show(status, el("p", { class: "notice" }, `Sending in about ${Math.ceil(delay / 1000)} seconds — a random wait, so that the moment you pressed Submit is not the moment the server sees.`));
  await new Promise((resolve) => setTimeout(resolve, delay));
  let response;
  try {
    response = await fetch(`/anon/campaigns/${wave.id}/responses`, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      headers: { "content-type": "application/json", authorization: formatAuthorization(token.token), accept: "application/json" },
      body: JSON.stringify(answers),
    });
  } catch {
    return say(status, "alert", "Could not reach the server. Your answers are still here and your token was not used; check your connection and press Submit again.");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {}
  if (response.status === 201) {
    const receipt = { receipt: body.receipt, campaignId: wave.id, responseId: body.response_id, sentOn: today(), title: wave.title, answers };
    await receipts.put(receipt);
    await waveTokens.put({ campaignId: wave.id, state: "spent", keyId: token.keyId, receipt: body.receipt, title: wave.title });
    return showReceipt(wave, receipt);
  }
  const type = (body && body.type) || "";
  if (response.status === 409 && type.endsWith("/token-spent")) {
    await waveTokens.put({ campaignId: wave.id, state: "spent", keyId: token.keyId, title: wave.title });
    return say(status, "alert", "Not sent: this survey was already answered with your token. Each person answers a wave once; if you did not answer it, tell the survey's manager.");
  }
  if (response.status === 409 && type.endsWith("/campaign-closed")) {
    return say(status, "alert", "Not sent: this survey has closed and no longer accepts answers.");
  }
  if (response.status === 422 && body && Array.isArray(body.errors)) {
    ui.goToField(body.errors[0].field);
    markErrors(ui.form, body.errors, ui.summary, ui.describe);
    return show(status, el("p", { class: "muted" }, "Nothing was sent and your token is unused; correct the answers above and submit again."));
  }
  if (response.status === 401) {
    return say(status, "alert", "Not sent: the server did not accept this browser's token for the survey. Your answers are still here.");
  }
  return say(status, "alert", `Not sent (HTTP ${response.status}). Your answers are still here; try again in a moment.`);
}

function showReceipt(wave, receipt) {
  const panel = el("div", { class: "success", id: "receipt", tabindex: "-1", role: "status" },
    el("h2", {}, "Thank you — your answer was received"),
    el("p", {}, "Your receipt: ", el("code", { class: "receipt", id: "receipt-code" }, receipt.receipt)),
    el("p", {}, "This browser keeps the receipt, the day you sent it and a copy of your answers, so you can check what the server stored. The server keeps no date with your answers."),
    el("p", {}, el("a", { href: "/receipts" }, "Check your receipt"), " · ", el("a", { href: "/surveys" }, "Back to open surveys")));
  show(root, el("h1", { id: "survey-title" }, wave.title), panel);
  panel.focus();
}

main().catch((err) => {
  console.error(err);
  fail("The survey could not be shown. Reload the page to try again.");
});
