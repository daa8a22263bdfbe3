#!/usr/bin/env bash
# Stripe drives a customer's real Bundler (issue 16): a subscription's events, signed here with
# openssl over the raw body, reach charter-server's POST /v1/webhooks/stripe; the customer
# configures Bundler once with a download credential. After the first paid period ends, a
# release published since is out of reach (the license ended); the next invoice.paid renews the
# license and the same configuration installs that release.
#
# usage: test_stripe.sh CHARTER CHARTER_SERVER WORK_DIR
set -euo pipefail

# shellcheck source=source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/source_server.sh" "$@"

make_vendor "$work/charter-data"
secret=whsec_bundler_test_3fK9q2Lx7Vb1
day=86400
t0=1796083200 # 2026-12-01T00:00:00Z, the clock of the first period
t1=$((t0 + 35 * day)) # after the first period (and its grace) ended
export CHARTER_NOW
CHARTER_NOW=$(rfc3339 "$t0")
"$charter" plan add pro-monthly --product acme-pro --duration 1mo --updates-for 1mo --grace 3d \
    --stripe-price price_bundler_m >/dev/null || fail "charter plan add"

# post_event NOW BODY: the body signed at NOW with the endpoint's secret; prints the HTTP status.
post_event() {
    local t=$1 body=$2 signature
    signature=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
    curl -s -o "$work/event.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -H "Stripe-Signature: t=$t,v1=$signature" --data-binary "$body" "http://127.0.0.1:$port/v1/webhooks/stripe"
}
# invoice_paid EVENT_ID INVOICE_ID CREATED PERIOD_START PERIOD_END (Stripe's 2026-10-28 shape)
invoice_paid() {
    printf '{"id":"%s","object":"event","api_version":"2026-10-28","created":%s,"type":"invoice.paid","data":{"object":' "$1" "$3"
    printf '{"id":"%s","object":"invoice","customer":"cus_bundler","customer_email":"sam@example.com","customer_name":"Sam Doe",' "$2"
    printf '"status":"paid","parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_bundler"}},'
    printf '"lines":{"object":"list","data":[{"id":"il_%s","object":"line_item","period":{"start":%s,"end":%s},' "$2" "$4" "$5"
    printf '"parent":{"type":"subscription_item_details","subscription_item_details":{"subscription":"sub_bundler",'
    printf '"subscription_item":"si_bundler"}},"pricing":{"type":"price_details","price_details":{"price":"price_bundler_m"}}}]}}}}'
}

gems=$work/gem-src
build_gem "$gems/1.0.0" acme-pro 1.0.0
build_gem "$gems/1.1.0" acme-pro 1.1.0
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((t0 - 2 * day)))" "$gems/1.0.0/acme-pro-1.0.0.gem" >/dev/null \
    || fail "release add 1.0.0"

# The first period: sign-up through Stripe.
CHARTER_STRIPE_WEBHOOK_SECRET=$secret start_source_server
status=$(post_event "$t0" "$(invoice_paid evt_bundler_1 in_bundler_1 "$t0" "$t0" $((t0 + 31 * day)))")
[[ $status == 200 ]] || fail "invoice.paid (sign-up): $status $(cat "$work/event.json")"
license_id=$("$charter" list --json | ruby -rjson -e 'l = JSON.parse(STDIN.read); print l.size == 1 ? l[0]["id"] : ""')
[[ $license_id == lic_* ]] || fail "no license made by the sign-up: $("$charter" billing events)"

secret_ci=$("$charter" credential create "$license_id" --name ci 2>/dev/null) || fail "charter credential create"
customer=$(client_env customer)
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
(cd "$work/customer/app" && $customer bundle config set --global 127.0.0.1 "ci:$secret_ci") >/dev/null || fail "bundle config set"
install() {
    rm -f "$work/customer/app/Gemfile.lock"
    (cd "$work/customer/app" && $customer bundle install) >"$work/$1.log" 2>&1
}
installed() { sed -n 's/^    acme-pro (\(.*\))$/\1/p' "$work/customer/app/Gemfile.lock"; }
install first || fail "bundle install in the first period: $(cat "$work/first.log")"
[[ $(installed) == 1.0.0 ]] || fail "first period: acme-pro $(installed), expected 1.0.0"
stop_server
server_pid=

# After the first period: 1.1.0 is published; the license ended, so the install is refused.
CHARTER_NOW=$(rfc3339 "$t1")
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((t1 - day)))" "$gems/1.1.0/acme-pro-1.1.0.gem" >/dev/null \
    || fail "release add 1.1.0"
CHARTER_STRIPE_WEBHOOK_SECRET=$secret start_source_server
# The server came back on another port: the Gemfile names it (the credential is the host's).
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
if install ended; then
    fail "bundle install succeeded after the paid period ended"
fi
# The renewal arrives (Stripe retried the card): the same configuration installs 1.1.0.
status=$(post_event "$t1" "$(invoice_paid evt_bundler_2 in_bundler_2 "$t1" $((t0 + 31 * day)) $((t0 + 62 * day)))")
[[ $status == 200 ]] || fail "invoice.paid (renewal): $status $(cat "$work/event.json")"
ruby -rjson -e 'exit(JSON.parse(File.read(ARGV[0]))["reason"].include?("renewed") ? 0 : 1)' "$work/event.json" \
    || fail "the renewal did not renew: $(cat "$work/event.json")"
install renewed || fail "bundle install after the renewal: $(cat "$work/renewed.log")"
[[ $(installed) == 1.1.0 ]] || fail "after the renewal: acme-pro $(installed), expected 1.1.0"
# Stripe delivers the renewal again: nothing changes.
status=$(post_event "$t1" "$(invoice_paid evt_bundler_2 in_bundler_2 "$t1" $((t0 + 31 * day)) $((t0 + 62 * day)))")
[[ $status == 200 ]] && grep -q '"duplicate":true' "$work/event.json" || fail "redelivery: $status $(cat "$work/event.json")"
[[ $("$charter" show "$license_id" --json | ruby -rjson -e 'print JSON.parse(STDIN.read)["version"]') == 2 ]] \
    || fail "the redelivery signed another version"

echo "ok: a Stripe subscription's license installed with Bundler in its first period, refused once that period ended," \
    "and renewed by invoice.paid to install a release published after the first period (a redelivery changed nothing)"
