// Writes the seed corpora (fuzz/corpus/<target>/): small, real inputs for each harness, among
// them tokens, revocation lists and wrapped keys made with the harnesses' fixed keys, which a
// corpus cannot hold otherwise. Ed25519 is deterministic, so rerunning it rewrites the same
// tokens; only the wrapped keys change (random salt and nonce).
//
// Usage: charter_fuzz_seeds CORPUS_FOLDER   (from a fuzz build: scripts/fuzz does not run it)

#include "fuzz_support.hpp"
#include "password_wrap.hpp"

#include <filesystem>
#include <fstream>
#include <initializer_list>
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
    return 0;
}
