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

for test in suite["activation_cases"]:
    verdict = verifier.verify_activation(expand(test["token"]), test["fingerprint"], now=test["now"], leeway=test["leeway"],
                                         keys=test["keys"], product=test["product"])
    if verdict.status != test["status"]:
        failures += 1
        print("case %s, verifier python: expected %s, actual %s (%s)" % (test["name"], test["status"], verdict.status, verdict.detail))
    elif test["status"] == "valid" and verdict.claims != test["claims"]:
        failures += 1
        print("case %s, verifier python: expected claims %s, actual %r" % (test["name"], json.dumps(test["claims"]), verdict.claims))

# The startup cases: each in a fresh folder holding its files.
import os
import tempfile

with tempfile.TemporaryDirectory(prefix="charter-conformance") as root:
    for test in suite["startup_cases"]:
        folder = os.path.join(root, test["name"])
        os.makedirs(folder)
        places = test["files"] + ([test["revocation_file"]] if test["revocation_file"] else [])
        for place in places:
            path = os.path.join(folder, place["name"])
            if place.get("directory"):
                os.mkdir(path)
            elif place["content"] is not None:
                with open(path, "wb") as out:
                    out.write(expand(place["content"]).encode("utf-8", "surrogateescape"))
        if test["env"] is None:
            os.environ.pop("CHARTER_CONFORMANCE_LICENSE", None)
        else:
            os.environ["CHARTER_CONFORMANCE_LICENSE"] = test["env"]
        previous = os.getcwd()
        os.chdir(folder)
        options = dict(env=None if test.get("no_env") else "CHARTER_CONFORMANCE_LICENSE",
                       files=[f["name"] for f in test["files"]], mode=test["mode"], grace_days=test["grace_days"],
                       renew_url=test["renew_url"],
                       revocation_file=test["revocation_file"]["name"] if test["revocation_file"] else None,
                       build_time=test["build_time"], now=test["now"], keys=test["keys"], product=test["product"])
        if test["renewal_warning_days"] is not None:  # None: not configured, so the verifier's default applies
            options["renewal_warning_days"] = test["renewal_warning_days"]
        try:
            result = verifier.check(**options)
        finally:
            os.chdir(previous)
            os.environ.pop("CHARTER_CONFORMANCE_LICENSE", None)
        actual = [result.status, result.valid, result.warning, result.message]
        expected = [test["status"], test["valid"], test["warning"], test["message"]]
        if actual != expected:
            failures += 1
            print("case %s, verifier python: expected %r, actual %r" % (test["name"], expected, actual))
total = len(suite["cases"]) + len(suite["startup_cases"]) + len(suite["activation_cases"])
print("python: %d of %d cases agree" % (total - failures, total))
sys.exit(1 if failures else 0)
