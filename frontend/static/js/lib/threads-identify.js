// What in a message might identify its writer: a local check that runs before anything
// is sent (nothing here talks to the network). It errs on the side of warning.
import { t } from "./i18n.js";

/** What findIdentifying() finds, named for the reader. */
export const FINDING_KIND = { "e-mail address": t("e-mail address"), date: t("date"), "phone number": t("phone number"),
  "employee or staff number": t("employee or staff number"), name: t("name") };

const MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec";
const DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday";
// Capitalised words that are not names however they are placed.
const COMMON = new Set(("I The A An This That These Those It We You They He She My Our Your Their His Her Its " +
  "Hi Hello Thanks Thank Please Dear Also But And Or So If When While After Before Since Because Not No Yes " +
  "Today Tomorrow Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday OK Okay").split(" "));

const CHECKS = [
  { kind: "e-mail address", re: /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g },
  { kind: "date", re: new RegExp(String.raw`\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:${MONTHS})\b|\b(?:${MONTHS})\.?\s+\d{1,2}(?:st|nd|rd|th)?\b|\b(?:last|on|this|next)\s+(?:${DAYS})\b|\byesterday\b`, "gi") },
  { kind: "phone number", re: /(?:\+|\b00)?\d[\d ()./-]{5,}\d\b/g, test: (m) => m.replace(/\D/g, "").length >= 7 && !/^\d{4}-\d{1,2}-\d{1,2}$/.test(m) },
  { kind: "employee or staff number", re: /\b(?:employee|staff|personnel|badge)\s*(?:id|no\.?|number|#)?\s*[:#]?\s*[A-Z0-9-]{3,}\b|\b[A-Z]{1,3}-?\d{4,}\b|\b\d{5,6}\b/gi },
  { kind: "name", re: /\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][\w'-]+|\b(?:[Mm]y name is|I am|I'm|[Tt]his is|[Ss]igned|[Rr]egards,?)\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?/g },
  { kind: "name", re: /\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b/g, test: (m) => !m.split(/\s+/).some((w) => COMMON.has(w)) },
];

/** Capitalised words inside a sentence (not after . ! ? or a line start): perhaps a name. */
function midSentenceCapitals(text) {
  const out = [];
  const re = /([^\s])?(\s+)([A-Z][a-z]{2,})\b/g;
  let m;
  while ((m = re.exec(text))) {
    const before = m[1];
    if (before && !/[.!?:;"“(]/.test(before) && !COMMON.has(m[3]) && !m[2].includes("\n")) {
      out.push({ kind: "name", match: m[3] });
    }
  }
  return out;
}

/**
 * Findings in `text`: [{kind, match}], each distinct (kind, match) once, in text order of kinds.
 */
export function findIdentifying(text) {
  const found = [];
  const seen = new Set();
  const add = (kind, match) => {
    const key = `${kind}\u0000${match}`;
    if (!seen.has(key)) {
      seen.add(key);
      found.push({ kind, match });
    }
  };
  for (const check of CHECKS) {
    for (const m of String(text).matchAll(check.re)) {
      const match = m[0].trim();
      if (!check.test || check.test(match)) add(check.kind, match);
    }
  }
  for (const f of midSentenceCapitals(String(text))) {
    if (![...seen].some((k) => k.includes(f.match))) add(f.kind, f.match);
  }
  return found;
}
