#!/usr/bin/env bash
# `charter --database` and `charter db copy` against a real PostgreSQL 15 (one cluster for this
# test, tests/support/postgres.sh): a vendor's charter.db copied to PostgreSQL and back, row for
# row and audit row for audit row; a non-empty target refused; `db backup` naming pg_dump; the
# URL's password never printed.
# Usage: test_db_copy.sh CHARTER WORK_DIR. Exit 77 (skipped) without PostgreSQL.
set -euo pipefail
charter=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
support=$here/../support
fail_label=db-copy
source "$support/vendor.sh"

rm -rf "$work"
mkdir -p "$work"
status=0
cluster=$("$support/postgres.sh" start $$) || status=$?
[ "$status" = 77 ] && exit 77
[ "$status" = 0 ] || fail "cannot start PostgreSQL"
trap '"$support/postgres.sh" stop "$cluster"' EXIT
for name in target again empty; do "$support/postgres.sh" createdb "$cluster" "$name"; done
url=$("$support/postgres.sh" url "$cluster" target)
again=$("$support/postgres.sh" url "$cluster" again)

# A vendor on SQLite with licenses, a revoked one, a plan, a credential and a release.
make_vendor "$work/sqlite"
read -r lic1 key1 <<<"$(issue_for_jane --product acme-pro --expires 1y)"
read -r lic2 _ <<<"$(issue_for_jane --product acme-basic)"
"$charter" revoke "$lic2" --reason "refund" >/dev/null
"$charter" plan add yearly --product acme-pro --duration 1y >/dev/null
"$charter" credential create "$lic1" --name ci >/dev/null
printf 'release bytes' >"$work/acme-1.0.zip"
"$charter" release add --product acme-pro --version 1.0 "$work/acme-1.0.zip" >/dev/null 2>&1

listing() { "$charter" "$@" list --json; }
audit() { "$charter" "$@" audit --oldest-first --json; }
listing >"$work/list.sqlite"
audit >"$work/audit.sqlite"

# SQLite → PostgreSQL.
"$charter" db copy --to "$url" >"$work/copy.out" 2>"$work/copy.err" || fail "db copy failed: $(cat "$work/copy.err")"
grep -qx "licenses	2" "$work/copy.out" || fail "licenses not counted: $(cat "$work/copy.out")"
grep -q "copied .* rows in .* tables from .*charter.db to postgresql://postgres@/target" "$work/copy.err" \
    || fail "no summary: $(cat "$work/copy.err")"
listing --database "$url" >"$work/list.pg"
cmp -s "$work/list.sqlite" "$work/list.pg" || fail "licenses differ after the copy to PostgreSQL"
audit --database "$url" >"$work/audit.pg"
cmp -s "$work/audit.sqlite" "$work/audit.pg" || fail "the audit log differs after the copy to PostgreSQL"

# The copy is a working database: the CLI issues, revokes and verifies on it (keys/ as before),
# through the environment variable as well as the option.
read -r lic3 key3 <<<"$(CHARTER_DATABASE_URL=$url issue_for_jane --product acme-pro --expires 30d)"
[ -n "$lic3" ] || fail "no license issued on PostgreSQL"
CHARTER_DATABASE_URL=$url "$charter" verify "$key3" >/dev/null || fail "a key issued on PostgreSQL does not verify"
"$charter" --database "$url" show "$lic3" >/dev/null || fail "the license issued on PostgreSQL is not found there"
"$charter" show "$lic3" >/dev/null 2>&1 && fail "the license issued on PostgreSQL is in charter.db"

# A target that holds rows is refused, and is left as it was.
before=$(audit --database "$url" | wc -c)
if "$charter" db copy --to "$url" >/dev/null 2>"$work/refused.err"; then fail "a copy into a database with rows was accepted"; else code=$?; fi
[ "$code" = 5 ] || fail "a non-empty target: exit $code, not 5"
grep -q "is not empty (table .* has .* rows); copy into a new, empty database" "$work/refused.err" \
    || fail "unclear refusal: $(cat "$work/refused.err")"
[ "$(audit --database "$url" | wc -c)" = "$before" ] || fail "the refused copy changed the target"

# PostgreSQL → PostgreSQL and → a new SQLite file, which is a data directory again with keys/.
listing --database "$url" >"$work/list.pg2"
audit --database "$url" >"$work/audit.pg2"
"$charter" --database "$url" db copy --to "$again" >/dev/null 2>&1 || fail "PostgreSQL to PostgreSQL failed"
audit --database "$again" | cmp -s - "$work/audit.pg2" || fail "the audit log differs after PostgreSQL to PostgreSQL"
mkdir -p "$work/back"
cp -a "$work/sqlite/keys" "$work/back/keys"
"$charter" --database "$url" db copy --to "$work/back/charter.db" >/dev/null 2>"$work/back.err" \
    || fail "PostgreSQL to a file failed: $(cat "$work/back.err")"
listing --data-dir "$work/back" | cmp -s - "$work/list.pg2" || fail "licenses differ after the copy back to a file"
audit --data-dir "$work/back" | cmp -s - "$work/audit.pg2" || fail "the audit log differs after the copy back to a file"
read -r lic4 _ <<<"$(CHARTER_DATA_DIR=$work/back issue_for_jane --product acme-pro)"
[ -n "$lic4" ] || fail "the file copied back does not issue (its numbering or keys are off)"

# db backup in PostgreSQL mode names the tools; the URL's password is never printed.
if "$charter" --database "$url" db backup "$work/x.db" 2>"$work/backup.err"; then fail "db backup on PostgreSQL succeeded"; else code=$?; fi
[ "$code" = 3 ] || fail "db backup on PostgreSQL: exit $code, not 3"
grep -q "back it up with pg_dump or a base backup (pg_basebackup)" "$work/backup.err" || fail "db backup: $(cat "$work/backup.err")"
if "$charter" --database "postgres://charter:s3cret-pw@127.0.0.1:1/none?connect_timeout=3" list 2>"$work/down.err"; then
    fail "an unreachable database was used"
fi
grep -q "cannot connect to the database postgresql://charter@127.0.0.1:1/none" "$work/down.err" || fail "unclear: $(cat "$work/down.err")"
grep -q "s3cret-pw" "$work/down.err" && fail "the password was printed"
"$charter" --database "mysql://x/y" list 2>"$work/bad.err" && fail "a mysql URL was accepted"
grep -q "must start with postgres:// or postgresql://" "$work/bad.err" || fail "unclear: $(cat "$work/bad.err")"
echo "ok"
