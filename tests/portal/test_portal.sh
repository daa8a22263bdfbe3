#!/usr/bin/env bash
# The customer portal in headless Chromium (tests/portal/browser.py, one browser per step)
# against one charter-server on 127.0.0.1, and the customer's real Bundler: sign in with a key
# and see the end date; a wrong key's error on the page; a download credential created in the
# browser installs the gem with Bundler, and once revoked in the browser Bundler is refused with
# the sentence; a form without its CSRF token is refused; a customer name with <script> and a
# product name with quotes render as text; another customer's license id in a URL is a 404; a
# license made by a (signed) Stripe webhook shows its billing line and the vendor's billing link,
# and a machine holding one of its seats is deactivated in the browser; sign-in by an email link
# that the server's mail sender delivers to a real SMTP server (tests/support/smtp_sink.py,
# Debian's aiosmtpd), read from there and opened in the browser: it works once.
#
# usage: test_portal.sh CHARTER CHARTER_SERVER WORK_DIR   (exit 77: no Chromium here)
set -euo pipefail

python=/usr/bin/python3
browser_py=$(dirname "${BASH_SOURCE[0]}")/browser.py
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] || ! $python -c 'import selenium' 2>/dev/null; then
    echo "skipped: chromium, chromium-driver or python3-selenium is not installed (scripts/setup installs them)"
    exit 77
fi

# shellcheck source=../rubygems/source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../rubygems/source_server.sh" "$@"

# browser STEP ARGS…: one step in a fresh browser; its output on stdout.
browser() {
    local status=0
    $python "$browser_py" "$base_url" "$work" "$@" || status=$?
    [[ $status == 0 ]] || fail "browser step $1 (exit $status)"
}

make_vendor "$work/charter-data"
now=$(date -u +%s)
day=86400
read -r license_id key < <(issue_for_jane --product acme-pro --expires 1y --updates-until 1y)
end_date=$("$charter" show "$license_id" --json | sed -n 's/^  "expires_at": "\([0-9-]*\)T.*/\1/p')
[[ -n $end_date ]] || fail "no end date for $license_id"

# Another customer, whose name is markup, with a license of a product whose name has quotes.
"$charter" product add quoted --name "The \"Quoted\" Product's <b>Edition</b>" >/dev/null
other_customer=$("$charter" customer add --email mallory@example.com --name '<script>document.title="owned"</script><i data-injected=1>x</i>')
read -r other_license other_key < <("$charter" issue --customer mallory@example.com --product quoted --json \
    | sed -n -e 's/^  "id": "\(lic_[^"]*\)".*/\1/p' -e 's/^  "key": "\([^"]*\)".*/\1/p' | paste -sd ' ')
[[ -n $other_license && -n $other_customer ]] || fail "no license for the other customer"

build_gem "$work/gem-src" acme-pro 1.0.0
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - day)))" "$work/gem-src/acme-pro-1.0.0.gem" >/dev/null \
    || fail "release add"

# A monthly plan with 3 seats sold by a Stripe price; the webhook's signing secret.
"$charter" plan add pro-monthly --product acme-pro --duration 1mo --seats 3 --stripe-price price_portal_m >/dev/null \
    || fail "plan add"
stripe_secret=whsec_portal_browser_test_0123456789
printf '%s\n' "$stripe_secret" >"$work/stripe-secret"
billing_url="https://billing.acme.example/p/login/portal"

start_source_server --portal-billing-url "$billing_url" --stripe-webhook-secret-file "$work/stripe-secret"
base_url=http://127.0.0.1:$port

# stripe_event ID TYPE OBJECT_JSON: POSTs a Stripe event signed as Stripe signs it
# (HMAC-SHA256 of "<t>.<body>" with the endpoint's secret, by openssl); must be applied.
stripe_event() {
    local body t signature answer
    body=$(printf '{"id":"%s","object":"event","api_version":"2026-10-28","created":%s,"type":"%s","data":{"object":%s}}' \
        "$1" "$now" "$2" "$3")
    t=$(date -u +%s)
    signature=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$stripe_secret" | sed 's/^.*= //')
    answer=$(curl -sS -w ' %{http_code}' -H 'Content-Type: application/json' -H "Stripe-Signature: t=$t,v1=$signature" \
        --data-binary "$body" "$base_url/v1/webhooks/stripe") || fail "stripe event $1: curl failed"
    [[ $answer == *' 200' ]] || fail "stripe event $1: $answer"
}
period_end=$((now + 30 * day))
stripe_event evt_portal_1 customer.created '{"id":"cus_PORTAL","object":"customer","email":"jane@example.com","name":"Jane Doe"}'
stripe_event evt_portal_2 customer.subscription.created "$(printf '{"id":"sub_PORTAL","object":"subscription","customer":"cus_PORTAL","status":"active","cancel_at_period_end":false,"items":{"object":"list","data":[{"id":"si_PORTAL","object":"subscription_item","current_period_start":%s,"current_period_end":%s,"quantity":1,"subscription":"sub_PORTAL","price":{"id":"price_portal_m","object":"price","type":"recurring"}}]}}' "$now" "$period_end")"
json_field() { /usr/bin/python3 -c 'import json, sys; data = json.load(sys.stdin); print(eval(sys.argv[1], {"data": data}))' "$1"; }
stripe_license=$("$charter" list --json | json_field '[l["id"] for l in data if l["plan"] == "pro-monthly"][0]') \
    || fail "no license made by the Stripe subscription"
stripe_key=$("$charter" show "$stripe_license" --json | json_field 'data["key"]')
# A machine holds one of its seats.
activation=$(curl -sS -H "Authorization: Bearer $stripe_key" -H 'Content-Type: application/json' \
    -d '{"fingerprint":"browser-test-machine","label":"build-01"}' "$base_url/v1/activations" | json_field 'data["id"]') \
    || fail "activation of $stripe_license"

browser sign-in-with-key "$key" "$license_id" "$end_date"
browser wrong-key "${key%?????}AAAAA" >"$work/wrong-key.out"

# A CI credential made in the browser installs the gem with the real Bundler.
secret=$(browser create-credential "$key" "$license_id" ci)
[[ $secret == cdl_* ]] || fail "no credential secret from the browser: '$secret'"
customer=$(client_env customer)
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
(cd "$work/customer/app" && $customer bundle config set --global 127.0.0.1 "ci:$secret") >/dev/null || fail "bundle config set"
(cd "$work/customer/app" && $customer bundle install) >"$work/install.log" 2>&1 \
    || fail "bundle install with the credential made in the portal: $(cat "$work/install.log")"
grep -q "acme-pro (1.0.0)" "$work/customer/app/Gemfile.lock" || fail "acme-pro 1.0.0 not installed"

# Revoked in the browser: Bundler is refused with the sentence.
browser revoke-credential "$key" "$license_id" ci
rm -f "$work/customer/app/Gemfile.lock"
rm -rf "$work/customer/bundle" "$work/customer/home/.bundle/cache" "$work/customer/home/.gem" "$work/customer/home/.cache"
if (cd "$work/customer/app" && $customer bundle install) >"$work/revoked.log" 2>&1; then
    fail "bundle install with a revoked credential succeeded"
fi
credential_id=$("$charter" credential list "$license_id" --json | sed -n 's/.*"id": "\(cred_[^"]*\)".*/\1/p' | head -n 1)
sentence="credential $credential_id (\"ci\") was revoked on $(date -u +%F); ask the vendor for a new credential, or use the license key"
shows "$work/revoked.log" "$sentence" || fail "Bundler does not show '$sentence': $(cat "$work/revoked.log")"

browser csrf "$key" "$license_id"
browser escaping "$other_key" '<script>document.title="owned"</script><i data-injected=1>x</i>' \
    "The \"Quoted\" Product's <b>Edition</b>"
browser other-customer "$key" "$license_id" "$other_license"

# Billing and seats: the Stripe license's page, its seat freed in the browser.
browser billing-and-seats "$key" "$stripe_license" "Renews on $(date -u -d "@$period_end" +%F)." "$billing_url" \
    "$activation" build-01
"$charter" activation list "$stripe_license" --json | json_field 'data[0]["state"]' | grep -qx released \
    || fail "the activation deactivated in the browser is not released: $("$charter" activation list "$stripe_license")"

# Sign-in by email link, through the server's mail sender and a real SMTP server. The server
# starts again on the same port with its public URL (the links' address) and SMTP settings.
mkdir -p "$work/sink"
: >"$work/sink.out"
/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../support/smtp_sink.py" --dir "$work/sink" >"$work/sink.out" 2>"$work/sink.err" &
sink_pid=$!
trap 'stop_server; kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true' EXIT
sink_port=
for _ in $(seq 300); do
    sink_port=$(sed -n 's/^port //p' "$work/sink.out" 2>/dev/null | head -n 1)
    [[ -n $sink_port ]] && break
    if ! kill -0 "$sink_pid" 2>/dev/null; then
        wait "$sink_pid" && status=0 || status=$?
        [[ $status == 77 ]] && { echo "skipped: python3-aiosmtpd is not installed (scripts/setup installs it)"; exit 77; }
        fail "the SMTP sink did not start: $(cat "$work/sink.err")"
    fi
    sleep 0.1
done
[[ -n $sink_port ]] || fail "the SMTP sink did not start within 30 s"
stop_server
start_source_server --listen "127.0.0.1:$port" --public-url "$base_url" --smtp-url "smtp://127.0.0.1:$sink_port" \
    --smtp-tls off --mail-from licenses@acme.example
[[ $source_url == "$base_url/rubygems/" ]] || fail "charter-server did not start again on port $port: $source_url"
link=$(browser email-link "$work/sink" jane@example.com "$license_id")
[[ $link == "$base_url/portal/sign-in/link/"* ]] || fail "no sign-in link from the browser step: '$link'"

# Every sign-in, sign-out and change is audited with the customer as actor.
jane=$("$charter" customer show jane@example.com --json | sed -n 's/^  "id": "\(cus_[^"]*\)".*/\1/p')
audit=$("$charter" audit --json)
for action in portal.sign_in portal.sign_out credential.create credential.revoke activation.release; do
    grep -q "\"actor\": \"customer:$jane\"" <<<"$(grep -B3 -A3 "\"action\": \"$action\"" <<<"$audit")" \
        || fail "no $action audit row with actor customer:$jane"
done
echo "ok: the portal in Chromium (sign-in, wrong key, credential with Bundler, CSRF, escaping, ownership, billing, deactivating a seat, email link through SMTP)"
