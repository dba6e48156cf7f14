// Translated UI strings and locale-aware formatting (service/i18n.py explains the design).
// The server puts the page's locale on <html lang> and, unless it is English (msgids are the English
// text), the page modules' messages into <script type="application/json" id="i18n-catalog">: read here
// synchronously, so t() needs no fetch. Placeholders are {name}, so a translation may reorder them.

function readCatalog() {
  const node = typeof document === "undefined" ? null : document.getElementById("i18n-catalog");
  try {
    return (node && JSON.parse(node.textContent)) || {};
  } catch {
    return {};
  }
}

const catalog = readCatalog();

/** The page's locale, e.g. "en" or "de". */
export const locale = (typeof document !== "undefined" && document.documentElement.lang) || "en";

/** `msgid` translated (itself when untranslated), `{name}` replaced from `values`; unknown names stay visible. */
export function t(msgid, values = {}) {
  const text = Object.hasOwn(catalog, msgid) && catalog[msgid] ? catalog[msgid] : msgid;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

/** `n` in the page's locale; `options` as for Intl.NumberFormat. */
export function formatNumber(n, options = {}) {
  return new Intl.NumberFormat(locale, options).format(n);
}

/**
 * A date (Date, ISO string, epoch ms) in the page's locale; `options` as for Intl.DateTimeFormat. Without
 * options English keeps Candor's ISO dates (one reading in Britain and America), other locales get their
 * medium date. A date-only string is a calendar day: formatted in UTC, so no time zone shifts it.
 */
export function formatDate(value, options) {
  const dayOnly = typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value);
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  if (!options && locale === "en") return dayOnly ? value : date.toISOString().slice(0, 10);
  const chosen = options || { dateStyle: "medium" };
  return new Intl.DateTimeFormat(locale, dayOnly ? { timeZone: "UTC", ...chosen } : chosen).format(date);
}
