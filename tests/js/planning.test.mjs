// The wave-planning helper against published values: Krejcie & Morgan's (1970) table of
// sample sizes for a ±5% margin at 95% confidence, and the textbook n = 385 of an
// unbounded population.
import assert from "node:assert/strict";
import { test } from "node:test";

import { needed, plan } from "../../frontend/static/js/lib/planning.js";

test("sample sizes match Krejcie and Morgan's table", () => {
  // N -> s from their Table 1 (χ² = 3.841, P = 0.5, d = 0.05)
  const table = { 100: 80, 500: 217, 1000: 278, 5000: 357, 10000: 370, 100000: 383 };
  for (const [n, s] of Object.entries(table)) {
    assert.ok(Math.abs(needed(Number(n), 0.05) - s) <= 1, `N=${n}: ${needed(Number(n), 0.05)} vs ${s}`);
  }
  assert.equal(needed(1e9, 0.05), 385);
});

test("the margin of error at the table's sample size is five points", () => {
  const { expected, moeProportion } = plan({ audience: 1000, rate: 0.278, sd: 1.5 });
  assert.equal(expected, 278);
  assert.ok(Math.abs(moeProportion - 0.05) < 0.0005, String(moeProportion));
});

test("a mean's margin shrinks with the square root of the answers and vanishes for a census", () => {
  const a = plan({ audience: 1e7, rate: 0.0001, sd: 1.5 }); // n = 1000
  assert.ok(Math.abs(a.moeMean - (1.959964 * 1.5) / Math.sqrt(1000)) < 1e-4);
  assert.equal(plan({ audience: 200, rate: 1, sd: 1.5 }).moeMean, 0);
  assert.equal(plan({ audience: 200, rate: 0.005, sd: 1.5 }).moeMean, null); // one answer: no margin
});
