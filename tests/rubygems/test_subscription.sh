#!/usr/bin/env bash
# A subscription through the customer's real Bundler (issue 14): Debian's Bundler against
# charter-server on 127.0.0.1, configured once (`bundle config set --global`) with a download
# credential and never touched again while the vendor renews the license twice, suspends and
# reinstates it: the license's record decides what the credential gets. Then the credential is
# revoked: refused with its sentence, while the license key first issued still installs.
#
# usage: test_subscription.sh CHARTER CHARTER_SERVER WORK_DIR
set -euo pipefail

# shellcheck source=source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/source_server.sh" "$@"

make_vendor "$work/charter-data"
now=$(date -u +%s)
day=86400

# Issued 300 days ago for a year, updates for 180 days: updates ended 120 days ago.
read -r license_id key < <(CHARTER_NOW=$(rfc3339 $((now - 300 * day))) issue_for_jane --product acme-pro --expires 1y \
    --updates-until 180d)
[[ $key == v4.public.* ]] || fail "no license key issued: '$key'"
gems=$work/gem-src
build_gem "$gems/1.0.0" acme-pro 1.0.0
build_gem "$gems/1.1.0" acme-pro 1.1.0
build_gem "$gems/1.2.0" acme-pro 1.2.0
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - 200 * day)))" "$gems/1.0.0/acme-pro-1.0.0.gem" >/dev/null \
    || fail "release add 1.0.0"
# Published after the original updates_until.
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - 60 * day)))" "$gems/1.1.0/acme-pro-1.1.0.gem" >/dev/null \
    || fail "release add 1.1.0"

start_source_server

# The customer configures Bundler once, with a credential for this environment.
secret=$("$charter" credential create "$license_id" --name ci 2>/dev/null) || fail "charter credential create"
[[ $secret == cdl_* ]] || fail "no credential made: '$secret'"
customer=$(client_env customer)
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
(cd "$work/customer/app" && $customer bundle config set --global 127.0.0.1 "ci:$secret") >/dev/null \
    || fail "bundle config set"
config_before=$(cat "$work/customer/home/.bundle/config")
# install NAME: `bundle install` afresh (no lockfile), its output in $work/NAME.log.
install() {
    rm -f "$work/customer/app/Gemfile.lock"
    (cd "$work/customer/app" && $customer bundle install) >"$work/$1.log" 2>&1
}
installed() { sed -n 's/^    acme-pro (\(.*\))$/\1/p' "$work/customer/app/Gemfile.lock"; }

install first || fail "bundle install with the credential: $(cat "$work/first.log")"
[[ $(installed) == 1.0.0 ]] || fail "before the renewal: acme-pro $(installed), expected 1.0.0 (1.1.0 came after updates ended)"

# Renewed for a year from its end: updates_until moves with the end, past 1.1.0.
"$charter" renew "$license_id" --by 1y >"$work/renew-1.out" 2>&1 || fail "charter renew: $(cat "$work/renew-1.out")"
install renewed || fail "bundle install after the renewal: $(cat "$work/renewed.log")"
[[ $(installed) == 1.1.0 ]] || fail "after the renewal: acme-pro $(installed), expected 1.1.0"

# A release published now, and a second renewal: still the same configuration.
"$charter" release add --product acme-pro "$gems/1.2.0/acme-pro-1.2.0.gem" >/dev/null || fail "release add 1.2.0"
"$charter" renew "$license_id" --by 1y >"$work/renew-2.out" 2>&1 || fail "second charter renew: $(cat "$work/renew-2.out")"
install renewed-twice || fail "bundle install after the second renewal: $(cat "$work/renewed-twice.log")"
[[ $(installed) == 1.2.0 ]] || fail "after the second renewal: acme-pro $(installed), expected 1.2.0"
# The credential and the first key both fetch the current key (GET /v1/license), version 3.
for who in "$secret" "$key"; do
    curl -s -u ":$who" "http://127.0.0.1:$port/v1/license" >"$work/license.json"
    ruby -rjson -e 'l = JSON.parse(File.read(ARGV[0])); exit(l["versions"] == 3 && l["key"] != ARGV[1] && l["state"] == "active" ? 0 : 1)' \
        "$work/license.json" "$key" || fail "GET /v1/license: $(cat "$work/license.json")"
done

# Suspended: the next install fails and Bundler prints the reason.
"$charter" suspend "$license_id" --reason "payment failed" >"$work/suspend.out" 2>&1 || fail "charter suspend: $(cat "$work/suspend.out")"
if install suspended; then
    fail "bundle install with a suspended license succeeded"
fi
sentence="license $license_id is suspended since $(date -u +%F) (payment failed); contact the vendor to reinstate it"
shows "$work/suspended.log" "bad response $sentence 402" || fail "bundle install (suspended) does not show '$sentence': $(cat "$work/suspended.log")"
for who in "$secret" "$key"; do
    curl -s -u ":$who" -o /dev/null -w '%{http_code}' "${source_url}gems/acme-pro-1.2.0.gem" | grep -qx 402 \
        || fail "a suspended license downloaded a gem"
done

# Reinstated: installs again.
"$charter" reinstate "$license_id" >"$work/reinstate.out" 2>&1 || fail "charter reinstate: $(cat "$work/reinstate.out")"
install reinstated || fail "bundle install after reinstating: $(cat "$work/reinstated.log")"
[[ $(installed) == 1.2.0 ]] || fail "after reinstating: acme-pro $(installed), expected 1.2.0"

[[ $(cat "$work/customer/home/.bundle/config") == "$config_before" ]] || fail "the customer's Bundler configuration changed"

# The credential revoked: refused with the sentence, while the license's first key still installs.
credential_id=$("$charter" credential list "$license_id" --json | ruby -rjson -e 'print JSON.parse(STDIN.read)[0]["id"]')
"$charter" credential revoke "$credential_id" >/dev/null 2>&1 || fail "charter credential revoke"
if install revoked-credential; then
    fail "bundle install with a revoked credential succeeded"
fi
shows "$work/revoked-credential.log" "credential $credential_id (\"ci\") was revoked on $(date -u +%F)" \
    || fail "bundle install (revoked credential): $(cat "$work/revoked-credential.log")"
rm -f "$work/customer/app/Gemfile.lock"
(cd "$work/customer/app" && $customer BUNDLE_127__0__0__1="license:$key" bundle install) >"$work/first-key.log" 2>&1 \
    || fail "bundle install with the first key after the credential was revoked: $(cat "$work/first-key.log")"
[[ $(installed) == 1.2.0 ]] || fail "the first key: acme-pro $(installed), expected 1.2.0"

echo "ok: one Bundler configuration with a credential through two renewals (a release after the original updates_until" \
    "installed), suspended (the reason printed), reinstated; the credential revoked (its sentence printed) while the" \
    "first license key installs"
