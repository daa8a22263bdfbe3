"""python3 run_python.py CASES.json LICENSE.py: every case of the conformance suite through the
Python verifier `charter verifier export --language python` wrote; prints each disagreement
(case, verifier, expected, actual) and exits 1 when there is one."""
import importlib.util
import json
import sys

cases_path, license_path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("charter_license_under_test", license_path)
verifier = importlib.util.module_from_spec(spec)
spec.loader.exec_module(verifier)


def expand(value):
    if value is None or isinstance(value, str):
        return value
    return "".join(piece if isinstance(piece, str) else piece["repeat"] * piece["count"] for piece in value)


with open(cases_path, encoding="utf-8") as file:
    suite = json.load(file)
failures = 0
for test in suite["cases"]:
    verdict = verifier.verify(expand(test["token"]), now=test["now"], leeway=test["leeway"], build_time=test["build_time"],
                              revocations=expand(test["revocations"]), keys=test["keys"], product=test["product"])
    if verdict.status != test["status"]:
        failures += 1
        print("case %s, verifier python: expected %s, actual %s (%s)" % (test["name"], test["status"], verdict.status, verdict.detail))
    elif test["status"] == "valid" and verdict.claims != test["claims"]:
        failures += 1
        print("case %s, verifier python: expected claims %s, actual %r" % (test["name"], json.dumps(test["claims"]), verdict.claims))
print("python: %d of %d cases agree" % (len(suite["cases"]) - failures, len(suite["cases"])))
sys.exit(1 if failures else 0)
