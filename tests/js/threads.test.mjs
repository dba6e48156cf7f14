// The thread pages' local helpers: the identifying-details check and thread secrets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { findIdentifying } from "../../frontend/static/js/lib/threads-identify.js";

const wordlistText = readFileSync(new URL("../../frontend/static/wordlist-bip39-english.txt", import.meta.url), "utf8");
globalThis.fetch = async () => ({ ok: true, text: async () => wordlistText });
const { newSecret, normaliseSecret, authorization } = await import("../../frontend/static/js/lib/threads-secret.js");

const kinds = (text) => findIdentifying(text).map((f) => f.kind);

test("flags e-mail addresses, phone numbers, dates, employee numbers and names", () => {
  const found = findIdentifying(
    "Mail jane.doe@example.org or call +44 20 7946 0958. Since 12 March, last Tuesday and 2024-05-03 " +
    "the badge E-12345 fails. My name is Jane Doe and my colleague Bob agrees.");
  const by = (kind) => found.filter((f) => f.kind === kind).map((f) => f.match);
  assert.deepEqual(by("e-mail address"), ["jane.doe@example.org"]);
  assert.ok(by("phone number").includes("+44 20 7946 0958"));
  assert.ok(by("date").includes("12 March") && by("date").includes("last Tuesday") && by("date").includes("2024-05-03"));
  assert.ok(by("employee or staff number").some((m) => m.includes("E-12345")));
  assert.ok(by("name").some((m) => m.includes("Jane Doe")));
  assert.ok(by("name").includes("Bob"));
});

test("a plain complaint raises nothing", () => {
  assert.deepEqual(kinds("The printer on floor 3 jams every morning. It has done so for weeks."), []);
  assert.deepEqual(kinds("VPN drops every hour. Please fix it."), []);
});

test("secrets are twelve words of the list, 132 bits, and normalise from any spelling", async () => {
  const words = new Set(wordlistText.split(/\s+/).filter(Boolean));
  assert.equal(words.size, 2048);
  const a = await newSecret();
  const b = await newSecret();
  assert.notEqual(a, b);
  assert.equal(a.split(" ").length, 12);
  assert.ok(a.split(" ").every((w) => words.has(w)));
  assert.equal(await normaliseSecret(`  ${a.toUpperCase().replaceAll(" ", "-")} `), a);
  assert.equal(await normaliseSecret(a.split(" ").slice(0, 11).join(" ")), null);
  assert.equal(await normaliseSecret(`${a.split(" ").slice(0, 11).join(" ")} notaword`), null);
  assert.equal(authorization(a), `ThreadSecret ${a.replaceAll(" ", "-")}`);
});
