# Sourced by the shell tests (tests/examples, tests/conformance, tests/rubygems): how they fail
# and the vendor they start from, made with the charter CLI in $charter.

# fail MESSAGE…: "FAIL (LABEL): MESSAGE" on stderr (the label from $fail_label, if set), exit 1.
fail() {
    echo "FAIL${fail_label:+ ($fail_label)}: $*" >&2
    exit 1
}

# make_vendor DIR: a data directory in DIR (exported as CHARTER_DATA_DIR) with products acme-pro
# and acme-basic and the customer jane@example.com; no CHARTER_NOW or CHARTER_PASSPHRASE of the
# caller's is kept.
make_vendor() {
    export CHARTER_DATA_DIR=$1
    unset CHARTER_NOW CHARTER_PASSPHRASE
    "$charter" init --issuer "Acme Inc." >/dev/null
    "$charter" product add acme-pro --name "Acme Pro" >/dev/null
    "$charter" product add acme-basic --name "Acme Basic" >/dev/null
    "$charter" customer add --email jane@example.com --name "Jane Doe" >/dev/null
}

# issue_for_jane ARGS…: "lic_… v4.public.…" of `charter issue --customer jane@example.com ARGS…`
issue_for_jane() {
    "$charter" issue --customer jane@example.com --json "$@" \
        | sed -n -e 's/^  "id": "\(lic_[^"]*\)".*/\1/p' -e 's/^  "key": "\([^"]*\)".*/\1/p' | paste -sd ' '
}

# rfc3339 UNIX_SECONDS
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
