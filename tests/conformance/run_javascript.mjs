// node run_javascript.mjs CASES.json LICENSE.mjs: every case of the conformance suite through the
// JavaScript verifier `charter verifier export --language javascript` wrote; prints each
// disagreement (case, verifier, expected, actual) and exits 1 when there is one.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

const [casesPath, licensePath] = process.argv.slice(2);
const verifier = await import(pathToFileURL(licensePath).href);
const expand = (value) =>
  value === null || typeof value === "string" ? value : value.map((piece) => (typeof piece === "string" ? piece : piece.repeat.repeat(piece.count))).join("");
// Values as JSON.parse gives them: BigInt as Number, plain objects.
const normal = (value) => JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

const suite = JSON.parse(readFileSync(casesPath, "utf8"));
let failures = 0;
for (const test of suite.cases) {
  const verdict = verifier.verify(expand(test.token), { now: test.now, leeway: test.leeway, buildTime: test.build_time,
    revocations: expand(test.revocations), keys: test.keys, product: test.product });
  if (verdict.status !== test.status) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected ${test.status}, actual ${verdict.status} (${verdict.detail})`);
  } else if (test.status === "valid" && !isDeepStrictEqual(normal(verdict.claims), test.claims)) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected claims ${JSON.stringify(test.claims)}, actual ${JSON.stringify(normal(verdict.claims))}`);
  }
}
console.log(`javascript: ${suite.cases.length - failures} of ${suite.cases.length} cases agree`);
process.exitCode = failures ? 1 : 0;
