#!/usr/bin/env bash
# A subscription through the customer's real Bundler (issue 14): Debian's Bundler against
# charter-server on 127.0.0.1, configured once (`bundle config set --global`) and never touched
# again while the vendor renews the license twice, suspends and reinstates it. The key in the
# configuration is the one first issued: the license's record decides what it gets.
#
# usage: test_subscription.sh CHARTER CHARTER_SERVER WORK_DIR
set -euo pipefail

charter=$1
server=$2
work=$3
rm -rf "$work"
mkdir -p "$work"

# shellcheck source=../support/vendor.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/vendor.sh"
# shellcheck source=source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/source_server.sh"
fail() {
    echo "FAIL: $*" >&2
    [[ -f $work/server.out ]] && tail -n 30 "$work/server.out" >&2
    exit 1
}
trap stop_server EXIT

# The vendor's side of a subscription (charter renew, suspend, reinstate) comes with the license
# changes of issue 14 §2: until this charter has them there is nothing to drive.
commands=$("$charter" --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
if ! grep -qx renew <<<"$commands" || ! grep -qx suspend <<<"$commands" || ! grep -qx reinstate <<<"$commands"; then
    echo "skipped: this charter has no renew or suspend command"
    exit 77
fi

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

# The customer configures Bundler once, with the key of version 1.
customer=$(client_env customer)
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
(cd "$work/customer/app" && $customer bundle config set --global 127.0.0.1 "license:$key") >/dev/null \
    || fail "bundle config set"
config_before=$(cat "$work/customer/home/.bundle/config")
# install NAME: `bundle install` afresh (no lockfile), its output in $work/NAME.log.
install() {
    rm -f "$work/customer/app/Gemfile.lock"
    (cd "$work/customer/app" && $customer bundle install) >"$work/$1.log" 2>&1
}
installed() { sed -n 's/^    acme-pro (\(.*\))$/\1/p' "$work/customer/app/Gemfile.lock"; }

install first || fail "bundle install with the first key: $(cat "$work/first.log")"
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
# The first key fetches the current one (GET /v1/license), version 3.
curl -s -u ":$key" "http://127.0.0.1:$port/v1/license" >"$work/license.json"
ruby -rjson -e 'l = JSON.parse(File.read(ARGV[0])); exit(l["versions"] == 3 && l["key"] != ARGV[1] && l["state"] == "active" ? 0 : 1)' \
    "$work/license.json" "$key" || fail "GET /v1/license with the first key: $(cat "$work/license.json")"

# Suspended: the next install fails and Bundler prints the reason.
"$charter" suspend "$license_id" --reason "payment failed" >"$work/suspend.out" 2>&1 || fail "charter suspend: $(cat "$work/suspend.out")"
if install suspended; then
    fail "bundle install with a suspended license succeeded"
fi
sentence="license $license_id is suspended since $(date -u +%F) (payment failed); contact the vendor to reinstate it"
shows "$work/suspended.log" "bad response $sentence 402" || fail "bundle install (suspended) does not show '$sentence': $(cat "$work/suspended.log")"
curl -s -u ":$key" -o /dev/null -w '%{http_code}' "${source_url}gems/acme-pro-1.2.0.gem" | grep -qx 402 \
    || fail "a suspended license downloaded a gem"

# Reinstated: installs again.
"$charter" reinstate "$license_id" >"$work/reinstate.out" 2>&1 || fail "charter reinstate: $(cat "$work/reinstate.out")"
install reinstated || fail "bundle install after reinstating: $(cat "$work/reinstated.log")"
[[ $(installed) == 1.2.0 ]] || fail "after reinstating: acme-pro $(installed), expected 1.2.0"

[[ $(cat "$work/customer/home/.bundle/config") == "$config_before" ]] || fail "the customer's Bundler configuration changed"
echo "ok: one Bundler configuration with the first key through two renewals (a release after the original updates_until" \
    "installed), suspended (the reason printed), reinstated"
