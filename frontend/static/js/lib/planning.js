// Planning a wave: how many answers to expect and how precise the results can be.
//
// With an audience of N and n expected answers, the 95% margin of error of a proportion
// (worst case p = 0.5) is z·sqrt(p(1−p)/n)·sqrt((N−n)/(N−1)), the finite population
// correction included (Cochran 1977, Sampling Techniques, §4.4); of a mean with standard
// deviation s it is z·s/sqrt(n) with the same correction. The sample size that reaches a
// margin d inverts it (Krejcie & Morgan 1970, Educational and Psychological Measurement
// 30, 607-610, use the same formula with z² = χ²₁(0.95) = 3.841).

const Z95 = 1.959963984540054;

/** {expected, moeProportion, moeMean} for an audience, an expected response rate (0..1) and an SD. */
export function plan({ audience, rate, sd }) {
  const expected = Math.floor(audience * rate);
  if (!(audience > 1) || expected < 2) return { expected, moeProportion: null, moeMean: null };
  const fpc = Math.sqrt((audience - expected) / (audience - 1));
  return {
    expected,
    moeProportion: Z95 * Math.sqrt(0.25 / expected) * fpc,
    moeMean: (Z95 * sd / Math.sqrt(expected)) * fpc,
  };
}

/** Answers needed for a ±margin on a proportion (p = 0.5) from an audience of N. */
export function needed(audience, margin) {
  const x = Z95 * Z95 * 0.25;
  return Math.ceil((x * audience) / (margin * margin * (audience - 1) + x));
}
