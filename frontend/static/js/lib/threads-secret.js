// Thread secrets: twelve words drawn in this browser from the BIP-0039 English list
// (2048 words, 11 bits each: 132 bits). The server only ever sees the phrase in an
// Authorization header and keeps a keyed hash of it.

export const WORDS = 12;
let loading = null;

/** The word list, fetched once from this origin. */
export function wordlist() {
  if (!loading) {
    loading = fetch("/static/wordlist-bip39-english.txt", { credentials: "omit" })
      .then((r) => {
        if (!r.ok) throw new Error(`word list: HTTP ${r.status}`);
        return r.text();
      })
      .then((text) => {
        const words = text.split(/\s+/).filter(Boolean);
        if (words.length !== 2048) throw new Error("the word list should hold 2048 words");
        return words;
      });
    loading.catch(() => { loading = null; });
  }
  return loading;
}

/** Twelve uniformly random words (2048 divides 65536, so masking 11 bits is unbiased). */
export async function newSecret() {
  const words = await wordlist();
  const random = crypto.getRandomValues(new Uint16Array(WORDS));
  return Array.from(random, (n) => words[n & 0x7ff]).join(" ");
}

/** Lower case, single spaces; null unless twelve words of the list. */
export async function normaliseSecret(text) {
  const words = await wordlist();
  const set = new Set(words);
  const parts = String(text || "").trim().toLowerCase().split(/[\s\-_.,]+/).filter(Boolean);
  if (parts.length !== WORDS || !parts.every((w) => set.has(w))) return null;
  return parts.join(" ");
}

export function authorization(secret) {
  return `ThreadSecret ${secret.split(" ").join("-")}`;
}
