// Helper for the cross-language tests (tests/unit/crypto/test_crypto_js_interop.py):
// `node tests/js/cli.mjs <command>` reads one JSON object (hex strings) on stdin and
// writes one JSON object on stdout. Not a test file itself (no .test.mjs suffix).
import { createTokenRequest, finalizeToken, verifyToken, formatAuthorization } from "../../frontend/static/js/lib/privacypass.js";

const hex = (b) => Buffer.from(b).toString("hex");
const bytes = (h) => Uint8Array.from(Buffer.from(h, "hex"));

const commands = {
  // {spki, challenge} -> {request, state: {spki, tokenInput, inv}}
  async request({ spki, challenge }) {
    const { request, state } = await createTokenRequest(bytes(spki), bytes(challenge));
    return { request: hex(request), state: { spki: hex(state.spki), tokenInput: hex(state.tokenInput), inv: hex(state.inv) } };
  },
  // {state, response} -> {token, authorization}
  async finalize({ state, response }) {
    const token = await finalizeToken(
      { spki: bytes(state.spki), tokenInput: bytes(state.tokenInput), inv: bytes(state.inv) },
      bytes(response),
    );
    return { token: hex(token), authorization: formatAuthorization(token) };
  },
  // {token, spki, challenge} -> {valid}
  async verify({ token, spki, challenge }) {
    return { valid: await verifyToken(bytes(token), bytes(spki), bytes(challenge)) };
  },
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const command = commands[process.argv[2]];
if (!command) {
  process.stderr.write(`unknown command ${process.argv[2]}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await command(JSON.parse(Buffer.concat(chunks).toString()))));
