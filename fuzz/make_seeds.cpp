// Writes the seed corpora (fuzz/corpus/<target>/): small, real inputs for each harness, among
// them tokens, revocation lists and wrapped keys made with the harnesses' fixed keys, which a
// corpus cannot hold otherwise, and gems made by Debian's `gem build`. Ed25519 is
// deterministic and `gem build` runs with SOURCE_DATE_EPOCH, so rerunning it rewrites the same
// tokens and gems; only the wrapped keys change (random salt and nonce). Without RubyGems the
// gem files are left as they are.
//
// Usage: charter_fuzz_seeds CORPUS_FOLDER   (from a fuzz build: scripts/fuzz does not run it)

#include "charter/keygen/ops/compression.hpp"
#include "charter/keygen/password_wrap.hpp"
#include "fuzz_support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <utility>

using namespace charter;
using namespace charter::fuzz;

namespace {

std::filesystem::path corpus_root;

void write_seed(char const* target, char const* name, std::string_view bytes)
{
    auto folder = corpus_root / target;
    std::filesystem::create_directories(folder);
    std::ofstream out(folder / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    FUZZ_CHECK(out.good());
}

// The control byte of fuzz_verify: mode in bits 0-2, clock index in bits 3-5.
std::string control(unsigned mode, unsigned clock = 0)
{
    return std::string(1, static_cast<char>(mode | clock << 3));
}

constexpr char const* full_claims = R"({"iss":"Acme Inc.","sub":"cus_0123456789abcdefghijkl","jti":"lic_ABCDEFGHIJKLMNOPQRSTUV",)"
                                    R"("iat":"2026-11-28T10:00:00Z","nbf":"2026-11-28T09:00:00Z","exp":"2027-11-28T10:00:00Z",)"
                                    R"("product":"acme-pro","name":"Jane Doe","entitlements":["sso","audit-log"],)"
                                    R"("updates_until":"2027-11-28T10:00:00Z","seats":25,"meta":{"plan":"team","n":[1,2.5,null,true]}})";
constexpr char const* minimal_claims = R"({"iss":"Acme","sub":"cus_1","jti":"lic_2","iat":"2026-11-28T10:00:00Z","product":"acme-pro"})";

std::string claims_with(std::string_view extra, std::string_view jti = "lic_2", std::string_view product_id = "acme-pro")
{
    return R"({"iss":"Acme","sub":"cus_1","jti":")" + std::string(jti) + R"(","iat":"2026-11-28T10:00:00Z","product":")"
        + std::string(product_id) + "\"" + std::string(extra) + "}";
}

void verify_seeds()
{
    auto const& key = trusted_key();
    auto sign = [&](std::string const& message) { return sign_message(key, message, product); };
    write_seed("fuzz_verify", "valid-full", control(0) + sign(full_claims));
    write_seed("fuzz_verify", "valid-minimal", control(1) + sign(minimal_claims));
    write_seed("fuzz_verify", "valid-no-footer", control(0) + keygen::sign_v4_public(key, minimal_claims, "", product));
    write_seed("fuzz_verify", "revoked", control(0) + sign(claims_with("", "lic_revoked")));
    write_seed("fuzz_verify", "not-yet-valid", control(0, 1) + sign(claims_with(R"(,"nbf":"2026-11-28T10:00:00Z")")));
    write_seed("fuzz_verify", "expired", control(0, 2) + sign(claims_with(R"(,"exp":"2027-01-01T00:00:00+01:00")")));
    write_seed("fuzz_verify", "updates-ended", control(0) + sign(claims_with(R"(,"updates_until":"2026-01-01T00:00:00Z")")));
    write_seed("fuzz_verify", "wrong-product-claim", control(0) + sign(claims_with("", "lic_2", "acme-basic")));
    write_seed("fuzz_verify", "other-product", control(0) + sign_message(key, minimal_claims, "acme-basic"));
    write_seed("fuzz_verify", "untrusted-key", control(0) + sign_message(untrusted_key(), minimal_claims, product));
    write_seed("fuzz_verify", "bad-claims", control(0) + sign(R"({"iss":"Acme","iss":"Acme"})"));
    write_seed("fuzz_verify", "bad-footer", control(0) + keygen::sign_v4_public(key, minimal_claims, R"({"kid":7})", product));
    write_seed("fuzz_verify", "malformed-local", control(0) + "v4.local.AAAA");
    write_seed("fuzz_verify", "malformed-padding", control(0) + "v4.public.AAAA==");
    write_seed("fuzz_verify", "malformed-empty-footer", control(0) + "v4.public.AAAA.");
    write_seed("fuzz_verify", "small-detail", control(7) + "\x05" + sign(full_claims));

    write_seed("fuzz_verify", "sign-full", control(2) + full_claims);
    write_seed("fuzz_verify", "sign-minimal-clock-max", control(2, 5) + minimal_claims);
    write_seed("fuzz_verify", "sign-expired-clock-min", control(2, 4) + claims_with(R"(,"exp":"1970-01-01T00:00:00Z")"));
    write_seed("fuzz_verify", "sign-year-9999", control(2, 7) + claims_with(R"(,"nbf":"9999-12-31T23:59:59Z","exp":"9999-12-31T23:59:59Z")"));
    write_seed("fuzz_verify", "sign-wrong-types", control(2) + claims_with(R"(,"seats":-1,"entitlements":["a",1],"meta":[])"));
    write_seed("fuzz_verify", "sign-missing-iat", control(2) + R"({"iss":"Acme","sub":"cus_1","jti":"lic_2","product":"acme-pro"})");
    write_seed("fuzz_verify", "sign-no-footer", control(3) + full_claims);
    write_seed("fuzz_verify", "sign-other-product", control(4) + minimal_claims);
    write_seed("fuzz_verify", "sign-untrusted", control(5) + minimal_claims);
    write_seed("fuzz_verify", "sign-then-change", control(6) + std::string("\x00\x20", 2) + "A" + minimal_claims);
}

void revocation_seeds()
{
    auto const& key = trusted_key();
    write_seed("fuzz_revocation_list", "valid", std::string(1, '\0')
            + keygen::sign_revocation_list(key, "Acme Inc.", product, t0, { "lic_1", "lic_baseline", "lic_ZZZ" }));
    write_seed("fuzz_revocation_list", "valid-empty", std::string(1, '\0') + keygen::sign_revocation_list(key, "Acme Inc.", product, t0, {}));
    write_seed("fuzz_revocation_list", "other-product", std::string(1, '\0')
            + keygen::sign_revocation_list(key, "Acme Inc.", "acme-basic", t0, { "lic_1" }));
    write_seed("fuzz_revocation_list", "untrusted-key", std::string(1, '\0')
            + keygen::sign_revocation_list(untrusted_key(), "Acme Inc.", product, t0, { "lic_1" }));
    write_seed("fuzz_revocation_list", "license-not-list", std::string(1, '\0') + sign_message(key, minimal_claims, product));
    constexpr char const* message = R"({"iss":"Acme Inc.","iat":"2026-11-28T10:00:00Z","product":"acme-pro","revoked":["lic_b","lic_a","lic_baseline"]})";
    write_seed("fuzz_revocation_list", "sign-list", "\x01" + std::string(message));
    write_seed("fuzz_revocation_list", "sign-list-unicode", "\x01" + std::string(R"({"iss":"\u00c5","iat":"2026-11-28T10:00:00.5-05:00","product":"acme-pro","revoked":["lic_\u00e9","","lic_a"]})"));
    write_seed("fuzz_revocation_list", "sign-list-other-product", "\x01" + std::string(R"({"iss":"A","iat":"2026-11-28T10:00:00Z","product":"acme-basic","revoked":[]})"));
    write_seed("fuzz_revocation_list", "sign-list-missing-revoked", "\x01" + std::string(R"({"iss":"A","iat":"2026-11-28T10:00:00Z","product":"acme-pro"})"));
    write_seed("fuzz_revocation_list", "sign-list-not-strings", "\x01" + std::string(R"({"iss":"A","iat":"2026-11-28T10:00:00Z","product":"acme-pro","revoked":[1,"lic_a"]})"));
    write_seed("fuzz_revocation_list", "sign-as-license", "\x02" + std::string(message));
    write_seed("fuzz_revocation_list", "sign-for-other-product", "\x03" + std::string(message));
}

void paserk_seeds()
{
    auto const& key = trusted_key();
    write_seed("fuzz_paserk", "public", key.paserk_public());
    write_seed("fuzz_paserk", "secret", key.paserk_secret());
    write_seed("fuzz_paserk", "pid", key.kid());
    auto cheap = keygen::wrap_secret_key(key, passphrase, keygen::Argon2Cost { 8192, 1 });
    FUZZ_CHECK(cheap.ok());
    write_seed("fuzz_paserk", "secret-pw-8kib", *cheap);
    // Official cost (64 MiB, 2 passes): the harness skips its derivation.
    auto costly = keygen::wrap_secret_key(key, passphrase, keygen::Argon2Cost { 64ull << 20, 2 });
    FUZZ_CHECK(costly.ok());
    write_seed("fuzz_paserk", "secret-pw-64mib", *costly);
    write_seed("fuzz_paserk", "public-padded", key.paserk_public() + "=");
    write_seed("fuzz_paserk", "public-k3", "k3.public." + key.paserk_public().substr(10));
    write_seed("fuzz_paserk", "secret-inconsistent", "k4.secret." + std::string(86, 'A'));
}

void claims_seeds()
{
    write_seed("fuzz_claims", "full", full_claims);
    write_seed("fuzz_claims", "minimal", minimal_claims);
    write_seed("fuzz_claims", "footer", format::make_footer(trusted_key().kid()));
    write_seed("fuzz_claims", "revocation-list", R"({"iss":"Acme Inc.","iat":"2026-11-28T10:00:00Z","product":"acme-pro","revoked":["lic_b","lic_a"]})");
    write_seed("fuzz_claims", "duplicate-key", R"({"iss":"a","sub":"b","iss":"c"})");
    write_seed("fuzz_claims", "duplicate-nested-key", R"({"meta":{"a":1,"b":{"a":2,"a":3}}})");
    write_seed("fuzz_claims", "nested-16", R"({"a":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]})");
    write_seed("fuzz_claims", "nested-17", R"({"a":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]})");
    write_seed("fuzz_claims", "numbers", R"({"a":-0,"b":9223372036854775807,"c":9223372036854775808,"d":-9223372036854775808,"e":1e400,"f":0.5,"seats":18446744073709551615})");
    write_seed("fuzz_claims", "escapes", R"({"name":"\u0000\ud83d\ude00\"\\\/\b\f\n\r\t","iss":"\u00e9"})");
    write_seed("fuzz_claims", "invalid-utf8", "{\"name\":\"\xc3\x28\"}");
    write_seed("fuzz_claims", "times", claims_with(R"(,"nbf":"2026-11-28T10:00:00.999999999+14:00","exp":"2026-11-28T10:00:00-23:59","updates_until":"2024-02-29T23:59:59Z")"));
    write_seed("fuzz_claims", "not-an-object", R"(["iss","sub"])");
    write_seed("fuzz_claims", "trailing-garbage", R"({"iss":"a"} {})");
}

void rfc3339_seeds()
{
    std::pair<char const*, char const*> const times[] = {
        { "canonical", "2026-11-28T10:00:00Z" },
        { "fraction", "2026-11-28T10:00:00.123456789Z" },
        { "offset-plus", "2026-11-28T11:30:00+01:30" },
        { "offset-minus", "2024-02-29T23:59:59-23:59" },
        { "epoch", "1970-01-01T00:00:00Z" },
        { "before-epoch", "1969-12-31T23:59:59Z" },
        { "year-0", "0000-01-01T00:00:00Z" },
        { "year-9999", "9999-12-31T23:59:59Z" },
        { "not-leap", "2023-02-29T00:00:00Z" },
        { "leap-second", "2016-12-31T23:59:60Z" },
        { "hour-24", "2026-11-28T24:00:00Z" },
        { "lower-case", "2026-11-28t10:00:00z" },
        { "no-zone", "2026-11-28T10:00:00" },
        { "empty-fraction", "2026-11-28T10:00:00.Z" },
    };
    for (auto const& [name, text] : times)
        write_seed("fuzz_rfc3339", name, text);
}

void base64url_seeds()
{
    std::pair<char const*, std::string> const texts[] = {
        { "empty", "" },
        { "one-byte", "AA" },
        { "two-bytes", "AAA" },
        { "three-bytes", "AAAA" },
        { "alphabet-ends", "_-8" },
        { "trailing-bits", "AB" },
        { "lone-char", "A" },
        { "padded", "AA==" },
        { "standard-alphabet", "+/8" },
        { "public-key", trusted_key().paserk_public().substr(10) },
    };
    for (auto const& [name, text] : texts)
        write_seed("fuzz_base64url", name, text);
}

// The control byte of fuzz_csv_batch: bit 0 = default product, bit 1 = issue the rows.
constexpr char const* issue_rows = "\x02";
constexpr char const* issue_rows_default_product = "\x03";

void csv_batch_seeds()
{
    std::pair<char const*, std::string> const files[] = {
        { "all-columns", std::string(issue_rows)
                + "customer,product,expires,updates_until,not_before,entitlements,seats,name,meta\n"
                  "cus_fuzz,acme-pro,2027-11-28,1y,2026-11-28T09:00:00Z,sso;audit-log,25,Jane Doe,plan=team;region=eu\n"
                  "jane@example.com,acme-pro,30d,,,,,,\n" },
        { "default-product", std::string(issue_rows_default_product) + "customer,seats\nJANE@example.com,1\ncus_fuzz,\n" },
        { "product-column-and-default", std::string(issue_rows_default_product) + "product,customer\n,cus_fuzz\nacme-basic,cus_fuzz\n" },
        { "quoted", std::string(issue_rows)
                + "\"customer\",\"product\",\"name\"\r\n\"cus_fuzz\",acme-pro,\"Doe, \"\"Jane\"\"\r\nsecond line\"\r\n" },
        { "blank-lines", std::string(issue_rows) + "customer,product\n\n\ncus_fuzz,acme-pro\n\n" },
        { "no-final-newline", std::string(issue_rows) + "customer,product\ncus_fuzz,acme-pro" },
        { "durations", std::string(issue_rows)
                + "customer,product,expires,updates_until\ncus_fuzz,acme-pro,12h,2w\ncus_fuzz,acme-pro,6mo,1y\n"
                  "cus_fuzz,acme-pro,1.5d,\ncus_fuzz,acme-pro,-5d,\n" },
        { "times-out-of-order", std::string(issue_rows)
                + "customer,product,expires,not_before\ncus_fuzz,acme-pro,2027-01-01,2028-01-01\n"
                  "cus_fuzz,acme-pro,2020-01-01,\ncus_fuzz,acme-pro,2027-02-30,\n" },
        { "bad-cells", std::string(issue_rows)
                + "customer,product,seats,entitlements,meta,name\ncus_fuzz,acme-pro,0,,,\ncus_fuzz,acme-pro,,a;a,,\n"
                  "cus_fuzz,acme-pro,,,k=\xc3\x28,\ncus_fuzz,acme-pro,,,,\x01\nnobody@example.com,acme-pro,,,,\n" },
        { "seats-not-a-number", std::string(issue_rows) + "customer,product,seats\ncus_fuzz,acme-pro,12x\n" },
        { "meta-without-equals", std::string(issue_rows) + "customer,product,meta\ncus_fuzz,acme-pro,plan\n" },
        { "wrong-field-count", std::string(issue_rows) + "customer,product\ncus_fuzz,acme-pro,extra\n" },
        { "unknown-column", std::string(issue_rows) + "customer,product,colour\n" },
        { "duplicate-column", std::string(issue_rows) + "customer,customer,product\n" },
        { "no-customer-column", std::string(issue_rows) + "product\nacme-pro\n" },
        { "empty-customer", std::string(issue_rows) + "customer,product\n,acme-pro\n" },
        { "unterminated-quote", std::string(issue_rows) + "customer,product\n\"cus_fuzz,acme-pro\n" },
        { "text-after-quote", std::string(issue_rows) + "customer,product\n\"cus_fuzz\"x,acme-pro\n" },
        { "empty", std::string(issue_rows) },
        { "read-only", std::string(1, '\0') + "customer,product\ncus_fuzz,acme-pro\n" },
    };
    for (auto const& [name, text] : files)
        write_seed("fuzz_csv_batch", name, text);
}

// The control byte of fuzz_request_bodies: the endpoint in bits 0-2, the Content-Type in bits
// 3-4 (0 = application/json), a Content-Length header in bit 5.
enum Endpoint : unsigned { licenses, revoke, customers, products, validate };

std::string body_for(unsigned endpoint, std::string_view body, unsigned content_type = 0, bool content_length = true)
{
    return std::string(1, static_cast<char>(endpoint | content_type << 3 | (content_length ? 0x20 : 0))) + std::string(body);
}

void request_bodies_seeds()
{
    std::pair<char const*, std::string> const bodies[] = {
        { "licenses-full", body_for(licenses, R"({"product":"acme-pro","customer":"jane@example.com","expires":"1y",)"
                                              R"("updates_until":"2027-11-28","not_before":null,"entitlements":["sso","audit-log"],)"
                                              R"("seats":25,"name":"Jane Doe","meta":{"plan":"team"}})") },
        { "licenses-minimal", body_for(licenses, R"({"product":"acme-pro","customer":"cus_1"})", 1) },
        { "licenses-missing-customer", body_for(licenses, R"({"product":"acme-pro"})") },
        { "licenses-wrong-types", body_for(licenses, R"({"product":"acme-pro","customer":"c","seats":"5","entitlements":"sso"})") },
        { "licenses-huge-seats", body_for(licenses, R"({"product":"p","customer":"c","seats":18446744073709551615})") },
        { "licenses-float-seats", body_for(licenses, R"({"product":"p","customer":"c","seats":2.0})") },
        { "licenses-meta-not-strings", body_for(licenses, R"({"product":"p","customer":"c","meta":{"n":1}})") },
        { "licenses-unknown-field", body_for(licenses, R"({"product":"p","customer":"c","colour":"red"})") },
        { "licenses-escapes", body_for(licenses, R"({"product":"p\u0000","customer":"\ud83d\ude00","name":"\"\\\/\b\f\n\r\t"})") },
        { "revoke-empty", body_for(revoke, "", 3, false) },
        { "revoke-reason", body_for(revoke, R"({"reason":"refund"})") },
        { "revoke-reason-number", body_for(revoke, R"({"reason":5})") },
        { "customers-valid", body_for(customers, R"({"email":"jane@example.com","name":"Jane"})") },
        { "customers-bad-email", body_for(customers, R"({"email":"jane@"})") },
        { "customers-email-list", body_for(customers, R"({"email":"a@b.c, d@e.f"})") },
        { "customers-no-email", body_for(customers, R"({"name":"Jane"})") },
        { "products-valid", body_for(products, R"({"id":"acme-pro","name":"Acme Pro","keep_access_after_expiry":true})") },
        { "products-bad-id", body_for(products, R"({"id":"Acme Pro"})") },
        { "products-keep-access-string", body_for(products, R"({"id":"a","keep_access_after_expiry":"yes"})") },
        { "validate-valid", body_for(validate, R"({"key":"v4.public.AAAA","product":"acme-pro"})") },
        { "validate-empty-product", body_for(validate, R"({"key":"k","product":""})") },
        { "validate-no-key", body_for(validate, R"({"product":"acme-pro"})") },
        { "text-plain", body_for(licenses, R"({"product":"p","customer":"c"})", 2) },
        { "no-content-type", body_for(customers, R"({"email":"a@b"})", 3) },
        { "empty-no-length", body_for(products, "", 0, false) },
        { "empty-with-length", body_for(validate, "") },
        { "malformed", body_for(licenses, R"({"product":"p",)") },
        { "array", body_for(customers, R"([{"email":"a@b"}])") },
        { "invalid-utf8", body_for(customers, "{\"email\":\"a@\xc3\x28\"}") },
        { "duplicate-key", body_for(products, R"({"id":"a","id":"b"})") },
    };
    for (auto const& [name, body] : bodies)
        write_seed("fuzz_request_bodies", name, body);
}

std::string read_file(std::filesystem::path const& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A gem made by `gem build` in a temporary folder (HOME there too: nothing is read from the
// user's), or nullopt when RubyGems is not installed.
std::optional<std::string> build_gem(std::string const& spec_body, std::string const& file)
{
    std::string pattern = (std::filesystem::temp_directory_path() / "charter-seeds-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    std::filesystem::path dir = pattern;
    std::filesystem::create_directories(dir / "lib");
    std::ofstream(dir / "lib" / "x.rb") << "module X; end\n";
    std::ofstream(dir / "x.gemspec") << "Gem::Specification.new do |s|\n" << spec_body << "  s.files = ['lib/x.rb']\nend\n";
    std::string command = "cd '" + dir.string() + "' && HOME='" + dir.string()
        + "' SOURCE_DATE_EPOCH=1764288000 gem build x.gemspec >/dev/null 2>&1";
    std::optional<std::string> gem;
    if (std::system(command.c_str()) == 0)
        gem = read_file(dir / file);
    std::filesystem::remove_all(dir);
    return gem;
}

// The control byte of fuzz_gem: 0 = a .gem file, 1 = metadata YAML, 2 = metadata.gz,
// 3 = metadata YAML in a tar before data.tar.gz.
void gem_seeds()
{
    std::string const minimal = "--- !ruby/object:Gem::Specification\nname: x\nversion: !ruby/object:Gem::Version\n  version: 1.0.0\n";
    std::pair<char const*, std::string> const yamls[] = {
        { "yaml-minimal", minimal },
        { "yaml-plain-version", "--- !ruby/object:Gem::Specification\nname: x\nversion: '2.0'\nplatform: java\n" },
        { "yaml-dependencies", minimal
                + "dependencies:\n- !ruby/object:Gem::Dependency\n  name: acme-base\n  requirement: !ruby/object:Gem::Requirement\n"
                  "    requirements:\n    - - \"~>\"\n      - !ruby/object:Gem::Version\n        version: '1.0'\n  type: :runtime\n"
                  "- !ruby/object:Gem::Dependency\n  name: json\n  version_requirements: !ruby/object:Gem::Requirement\n"
                  "    requirements:\n    - - \">=\"\n      - '0'\n- !ruby/object:Gem::Dependency\n  name: rake\n  type: :development\n"
                  "required_ruby_version: !ruby/object:Gem::Requirement\n  requirements:\n  - - \">=\"\n"
                  "    - !ruby/object:Gem::Version\n      version: '2.7'\n" },
        { "yaml-aliases", "--- !ruby/object:Gem::Specification\nname: &n x\nversion: *n\nauthors: &a [a, b]\nlicenses: *a\n" },
        { "yaml-flow", "!ruby/object:Gem::Specification {name: x, version: {version: 1}, dependencies: [{name: y}]}\n" },
        { "yaml-wrong-tag", "--- !ruby/object:Gem::Version\nname: x\nversion: 1.0.0\n" },
        { "yaml-no-name", "--- !ruby/object:Gem::Specification\nversion: 1.0.0\n" },
        { "yaml-bad-platform", minimal + "platform: x86 linux\n" },
        { "yaml-bad-dependency", minimal + "dependencies:\n- name: ../x\n" },
        { "yaml-not-yaml", "--- !ruby/object:Gem::Specification\nname: [x\n" },
        { "yaml-deep", "--- !ruby/object:Gem::Specification\nname: x\nversion: 1\nsummary: " + std::string(300, '[')
                + std::string(300, ']') + "\n" },
    };
    for (auto const& [name, yaml] : yamls)
        write_seed("fuzz_gem", name, "\x01" + yaml);
    write_seed("fuzz_gem", "yaml-metadata-first", "\x03" + minimal);
    write_seed("fuzz_gem", "metadata-gz", "\x02" + ops::gzip(minimal));
    write_seed("fuzz_gem", "metadata-gz-truncated", "\x02" + ops::gzip(minimal).substr(0, 30));
    write_seed("fuzz_gem", "not-a-tar", std::string(1, '\0') + "hello, this is not a tar archive at all\n");

    auto pro = build_gem("  s.name = 'acme-pro'; s.version = '1.2.0'; s.summary = 'Pro features'\n"
                         "  s.authors = ['A. Vendor']; s.licenses = ['Nonstandard']; s.platform = 'x86_64-linux'\n"
                         "  s.add_dependency 'acme-base', '~> 1.0', '>= 1.0.2'\n"
                         "  s.add_development_dependency 'rake'\n"
                         "  s.required_ruby_version = '>= 2.7'\n",
        "acme-pro-1.2.0-x86_64-linux.gem");
    auto base = build_gem("  s.name = 'acme-base'; s.version = '1.0.3'; s.summary = 's'; s.authors = ['a']\n", "acme-base-1.0.3.gem");
    if (!pro || !base) {
        std::fprintf(stderr, "charter_fuzz_seeds: `gem build` failed (is RubyGems installed?); the gem seeds are left as they are\n");
        return;
    }
    write_seed("fuzz_gem", "gem-build-platform", std::string(1, '\0') + *pro);
    write_seed("fuzz_gem", "gem-build-ruby", std::string(1, '\0') + *base);
    // The same gem cut after its first member (metadata.gz, as `gem build` orders them) and
    // closed with the end-of-archive marker: a gem without data.tar.gz, which is refused.
    size_t metadata_size = std::stoul(base->substr(124, 11), nullptr, 8);
    write_seed("fuzz_gem", "gem-metadata-only",
        std::string(1, '\0') + base->substr(0, 512 + (metadata_size + 511) / 512 * 512) + std::string(1024, '\0'));
}

}

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_FOLDER\n", argv[0]);
        return 2;
    }
    corpus_root = argv[1];
    verify_seeds();
    revocation_seeds();
    paserk_seeds();
    claims_seeds();
    rfc3339_seeds();
    base64url_seeds();
    csv_batch_seeds();
    request_bodies_seeds();
    gem_seeds();
    return 0;
}
