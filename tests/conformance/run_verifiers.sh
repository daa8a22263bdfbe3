#!/usr/bin/env bash
# The verifiers `charter verifier export` writes, tested as a vendor ships them:
#   run_verifiers.sh LANGUAGE CHARTER WORK_DIR SOURCE_DIR
# 1. exports the verifier of a fresh data directory's product acme-pro;
# 2. checks it is self-contained: Ruby's file requires only json and openssl and runs under
#    `ruby --disable-gems`; Python's runs under `python3 -I -S` with nothing but the cryptography
#    package on its path (and without it, says so as a status); JavaScript's imports only node:
#    modules and runs from a folder without node_modules;
# 3. runs the whole conformance suite through it (each disagreement names case, verifier,
#    expected and actual status);
# 4. runs it as a program on keys the charter CLI issued, with the same verdicts as `charter verify`.
set -euo pipefail
language=$1 charter=$2 work=$3 source=$4
cases=$source/tests/conformance/cases.json
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail_label=$language
# shellcheck source=../support/vendor.sh
source "$source/tests/support/vendor.sh"
make_vendor "$work/charter-data"

case $language in
ruby) file=license.rb ;;
python) file=license.py ;;
javascript) file=license.mjs ;;
*) fail "unknown language" ;;
esac
"$charter" verifier export --language "$language" --product acme-pro >"$file"

python_path=$work/python-path # only cryptography (and the cffi backend it loads)
case $language in
ruby)
    requires=$(grep -E '^\s*require' "$file" | sort -u)
    [[ $requires == $'require "json"\nrequire "openssl"' ]] || fail "requires more than json and openssl: $requires"
    run=(ruby --disable-gems "$file")
    ruby --disable-gems "$source/tests/conformance/run_ruby.rb" "$cases" "$file" AcmeProLicense || fail "conformance suite"
    ;;
python)
    mkdir -p "$python_path"
    ln -s /usr/lib/python3/dist-packages/cryptography "$python_path/"
    for backend in /usr/lib/python3/dist-packages/_cffi_backend*; do ln -s "$backend" "$python_path/"; done
    cat >run.py <<PY
import sys
sys.path.insert(0, "$python_path")
sys.argv = sys.argv[1:]
exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"), {"__name__": "__main__"})
PY
    run=(/usr/bin/python3 -I -S run.py "$work/$file")
    /usr/bin/python3 -I -S run.py "$source/tests/conformance/run_python.py" "$cases" "$work/$file" || fail "conformance suite"
    # Without the cryptography package: a status and a message, no traceback.
    set +e
    output=$(/usr/bin/python3 -I -S "$file" "v4.public.AAAA" 2>&1)
    status=$?
    set -e
    [[ $status == 1 && $output == *"the cryptography package is missing"* && $output != *Traceback* ]] \
        || fail "without cryptography: exit $status: $output"
    ;;
javascript)
    imports=$(grep -E '^import ' "$file" | grep -v -E 'from "node:[a-z]+";$' || true)
    [[ -z $imports ]] || fail "imports more than node: modules: $imports"
    [[ ! -e node_modules && ! -e ../node_modules ]] || fail "a node_modules folder is in the way"
    run=(node "$file")
    node "$source/tests/conformance/run_javascript.mjs" "$cases" "$work/$file" || fail "conformance suite"
    ;;
esac

# As a program, on keys the CLI issued: the verdict of `charter verify`.
issue() { issue_for_jane "$@" | cut -d' ' -f2; }
valid=$(issue --product acme-pro --expires 1y --entitlement sso)
expired=$(CHARTER_NOW=2020-01-01T00:00:00Z issue --product acme-pro --expires 30d)
other=$(issue --product acme-basic)
revoked_json=$("$charter" issue --customer jane@example.com --json --product acme-pro)
revoked=$(sed -n 's/^  "key": "\([^"]*\)".*/\1/p' <<<"$revoked_json")
revoked_id=$(sed -n 's/^  "id": "\([^"]*\)".*/\1/p' <<<"$revoked_json")
"$charter" revoke "$revoked_id" >/dev/null 2>&1
"$charter" revocations export --product acme-pro >revocations
updates=$(issue --product acme-pro --updates-until 30d)
late=$(date -u -d "+60 days" +%Y-%m-%d)
early=$(date -u +%Y-%m-%dT%H:%M:%SZ)

expect() {
    local want_status=$1 want_exit=$2
    shift 2
    local output code=0
    output=$("${run[@]}" "$@" 2>&1) || code=$?
    [[ $code == "$want_exit" && ${output%%$'\n'*} == "$want_status" ]] \
        || fail "${run[*]} $*: exit $code, expected $want_exit ($want_status); output: $output"
    echo "ok: $language, $want_status: ${output#*$'\n'}"
}
expect valid 0 "$valid"
expect expired 1 "$expired"
expect valid 0 --at 2020-01-15T00:00:00Z "$expired"
expect wrong_product 1 "$other"
expect revoked 1 --revocations revocations "$revoked"
expect valid 0 "$revoked"
expect updates_ended 1 --build-time "$late" "$updates"
expect valid 0 --build-time "$early" "$updates"
expect bad_signature 1 "${valid:0:40}A${valid:41}"
expect malformed 1 "not-a-key"
printf 'garbage\n' >corrupt
expect bad_revocation_list 1 --revocations corrupt "$valid"
expect bad_revocation_list 1 --revocations missing-file "$valid"
# charter verify agrees on each.
for key in "$valid" "$expired" "$other"; do
    charter_code=0
    "$charter" verify --product acme-pro "$key" >/dev/null 2>&1 || charter_code=$?
    code=0
    "${run[@]}" "$key" >/dev/null 2>&1 || code=$?
    [[ $charter_code == "$code" ]] || fail "charter verify exits $charter_code, the $language verifier $code"
done
# The startup check on bad input: statuses and messages, never an exception.
mkdir -p a-directory
printf 'garbage\n' >corrupt-list
in_grace=$(CHARTER_NOW=$(date -u -d "-40 days" +%Y-%m-%dT%H:%M:%SZ) issue --product acme-pro --expires 37d)
# Issued an hour ago for 20 days: 19 whole days left when it is checked.
ending_soon=$(CHARTER_NOW=$(date -u -d "-1 hour" +%Y-%m-%dT%H:%M:%SZ) issue --product acme-pro --expires 20d)
case $language in
ruby)
    startup() { # ENV_VALUE ARGS (Ruby keyword arguments)
        env -u ACME_PRO_LICENSE ${1:+ACME_PRO_LICENSE=$1} ruby --disable-gems -e "require './$file'; r = AcmeProLicense.check(env: 'ACME_PRO_LICENSE', $2); puts [r.status, r.valid, r.warning, r.message].join(' | ')"
    }
    unreadable="files: ['a-directory']"
    corrupt="revocation_file: 'corrupt-list'"
    grace="grace_days: 14"
    ending="renewal_warning_days: 30"
    bad_ending="renewal_warning_days: -1"
    warn="mode: :warn"
    ;;
python)
    startup() {
        env -u ACME_PRO_LICENSE ${1:+ACME_PRO_LICENSE=$1} /usr/bin/python3 -I -S -c "import sys; sys.path[:0] = ['$python_path', '.']; import license as m; r = m.check(env='ACME_PRO_LICENSE', $2); print(' | '.join([r.status, str(r.valid).lower(), str(r.warning).lower(), r.message]))"
    }
    unreadable="files=['a-directory']"
    corrupt="revocation_file='corrupt-list'"
    grace="grace_days=14"
    ending="renewal_warning_days=30"
    bad_ending="renewal_warning_days=-1"
    warn="mode='warn'"
    ;;
javascript)
    startup() {
        env -u ACME_PRO_LICENSE ${1:+ACME_PRO_LICENSE=$1} node --input-type=module -e "import { check } from './$file'; const r = check({ env: 'ACME_PRO_LICENSE', $2 }); console.log([r.status, r.valid, r.warning, r.message].join(' | '));"
    }
    unreadable="files: ['a-directory']"
    corrupt="revocationFile: 'corrupt-list'"
    grace="graceDays: 14"
    ending="renewalWarningDays: 30"
    bad_ending="renewalWarningDays: -1"
    warn="mode: 'warn'"
    ;;
esac
expect_startup() { # NAME WANT ENV_VALUE ARGS
    local output
    output=$(startup "$3" "$4" 2>&1) || fail "startup check, $1: it raised: $output"
    [[ $output == "$2"* ]] || fail "startup check, $1: got '$output', expected '$2…'"
    echo "ok: $language startup check, $1"
}
expect_startup "a key file that is a directory" \
    "no_license | false | false | no license key found: a-directory could not be read (it is a directory); set ACME_PRO_LICENSE or put the key in a-directory" \
    "" "$unreadable"
expect_startup "a corrupt revocation file" \
    "valid | true | true | the license " "$valid" "$corrupt"
output=$(startup "$valid" "$corrupt")
[[ $output == *"; the revocation list corrupt-list is not a valid revocation list for acme-pro, so revocations were not checked" ]] \
    || fail "corrupt revocation file: $output"
expect_startup "expired, in the grace period" "expired | true | true | the license lic_" "$in_grace" "$grace"
output=$(startup "$in_grace" "$grace")
[[ $output == *"; it keeps working until "*" (grace period of 14 days); get the renewed key from Acme Inc. and put it in ACME_PRO_LICENSE" ]] \
    || fail "grace period: $output"
expect_startup "20 days before the end, the default 14-day renewal warning: no warning yet" "valid | true | false | the license lic_" \
    "$ending_soon" "$grace"
expect_startup "ending within a 30-day renewal warning period" "valid | true | true | the license lic_" "$ending_soon" "$ending"
output=$(startup "$ending_soon" "$ending")
[[ $output == *" ends on "*" (in 19 days); get the renewed key from Acme Inc. and put it in ACME_PRO_LICENSE" ]] \
    || fail "renewal warning: $output"
set +e
output=$(startup "$ending_soon" "$bad_ending" 2>&1)
set -e
[[ $output == *" must be a whole number of days from 0 to 3650, not -1"* ]] || fail "renewal warning period of -1: $output"
echo "ok: $language startup check, a renewal warning period of -1 is refused by name"
expect_startup "warn-only mode without a key" "no_license | true | true | no license key found: set ACME_PRO_LICENSE" "" "$warn"
expect_startup "enforce mode, another product's key" \
    "wrong_product | false | false | the license key in ACME_PRO_LICENSE is for another product (acme-basic), not acme-pro" "$other" "$grace"
echo "$language: the verifier passes"
