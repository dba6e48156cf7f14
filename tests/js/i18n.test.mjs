// The page modules' translation helper, as a German page loads it: the catalog comes from the page's
// <script id="i18n-catalog">, the locale from <html lang>.
import assert from "node:assert/strict";
import { test } from "node:test";

const CATALOG = { "Hello {name}": "Hallo {name}", "{a} before {b}": "{b} vor {a}", "Empty": "" };
globalThis.document = {
  documentElement: { lang: "de" },
  getElementById: (id) => (id === "i18n-catalog" ? { textContent: JSON.stringify(CATALOG) } : null),
};
const { formatDate, formatNumber, locale, t } = await import("../../frontend/static/js/lib/i18n.js");

test("messages are translated and their placeholders filled, in the translation's order", () => {
  assert.equal(locale, "de");
  assert.equal(t("Hello {name}", { name: "Eve" }), "Hallo Eve");
  assert.equal(t("{a} before {b}", { a: 1, b: 2 }), "2 vor 1");
});

test("an untranslated or empty message falls back to the English msgid; a missing value stays visible", () => {
  assert.equal(t("Not in the catalog {n}", { n: 3 }), "Not in the catalog 3");
  assert.equal(t("Empty"), "Empty");
  assert.equal(t("Hello {name}"), "Hallo {name}");
  assert.equal(t("toString"), "toString", "only the catalog's own keys count");
});

test("numbers and dates follow the page's locale; a calendar day never shifts by time zone", () => {
  assert.equal(formatNumber(1234.5), "1.234,5");
  assert.equal(formatNumber(0.4, { minimumFractionDigits: 2 }), "0,40");
  assert.equal(formatDate("2026-12-17"), "17.12.2026");
  assert.equal(formatDate("2026-12-17", { dateStyle: "long" }), "17. Dezember 2026");
  assert.equal(formatDate("not a date"), "not a date");
});

test("requests ask for the page's language, not the browser's list: cookie-less anonymous posts get their errors in it", async () => {
  globalThis.document.querySelector = () => null;  // base.js looks for a sign-out form when loaded
  const { fetchJson } = await import("../../frontend/static/js/lib/base.js");
  const seen = [];
  globalThis.fetch = async (url, init) => {
    seen.push(init);
    return { ok: false, status: 422, headers: { get: () => "application/problem+json" }, json: async () => ({}) };
  };
  await fetchJson("/anon/threads", { method: "POST", credentials: "omit", json: {} });
  assert.equal(seen[0].headers["accept-language"], "de");
  assert.equal(seen[0].credentials, "omit");
});
