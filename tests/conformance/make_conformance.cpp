// make_conformance: writes the conformance suite (tests/conformance/cases.json) that every
// Charter verifier must pass with the same verdicts: libcharter-verify, and the Ruby, Python and
// JavaScript verifiers `charter verifier export` emits. Run it to regenerate the file:
//
//     build/tests/make_conformance > tests/conformance/cases.json
//
// Each case states the verdict docs/format.md requires, written here by hand next to the
// input that provokes it; the file is never produced by running a verifier. Keys come from fixed
// seeds and Ed25519 is deterministic, so the output is the same on every run (the test
// test_conformance_fresh checks that the committed file is what this program prints).

#include "charter/format/base64url.hpp"
#include "charter/format/claims.hpp"
#include "charter/format/pae.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/token_signer.hpp"
#include "charter/verify.h"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace charter;
using Json = nlohmann::ordered_json;

constexpr char const* product = "acme-pro";
constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z

keygen::SigningKey key_from_seed(unsigned char fill)
{
    unsigned char seed[32];
    for (int i = 0; i < 32; ++i)
        seed[i] = static_cast<unsigned char>(fill + i);
    unsigned char public_key[32], secret[64];
    crypto_sign_seed_keypair(public_key, secret, seed);
    return *keygen::SigningKey::from_secret_bytes(std::string_view(reinterpret_cast<char*>(secret), 64));
}

keygen::SigningKey const k1 = key_from_seed(0x10);
keygen::SigningKey const k2 = key_from_seed(0x40);
keygen::SigningKey const k3 = key_from_seed(0x70); // never trusted

std::string b64(std::string_view bytes) { return format::base64url_encode(bytes); }
std::string footer_of(keygen::SigningKey const& key) { return format::make_footer(key.kid()); }

std::string raw_signature(keygen::SigningKey const& key, std::string const& signed_bytes)
{
    unsigned char signature[64];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<unsigned char const*>(signed_bytes.data()), signed_bytes.size(),
        key.secret_bytes());
    return std::string(reinterpret_cast<char*>(signature), 64);
}

// A token from its parts: payload = message || signature, footer omitted when nullopt.
std::string assemble(std::string const& message, std::string const& signature, std::optional<std::string> const& footer)
{
    std::string token = "v4.public." + b64(message + signature);
    if (footer)
        token += "." + b64(*footer);
    return token;
}

std::string sign(std::string const& message, keygen::SigningKey const& key = k1, std::optional<std::string> footer = std::nullopt,
    std::string const& assertion = product)
{
    std::string foot = footer ? *footer : footer_of(key);
    return keygen::sign_v4_public(key, message, foot, assertion);
}

std::string sign_without_footer(std::string const& message, keygen::SigningKey const& key = k1, std::string const& assertion = product)
{
    return assemble(message, raw_signature(key, format::pae({ "v4.public.", message, "", assertion })), std::nullopt);
}

// The license claims every case starts from; `extra` is appended inside the object.
std::string claims(std::string const& extra = "", std::string const& jti = "lic_CONFORMANCE00000000001")
{
    return R"({"iss":"Acme Inc.","sub":"cus_CONFORMANCE00000000001","jti":")" + jti
        + R"(","iat":"2026-11-28T10:00:00Z","product":"acme-pro")" + extra + "}";
}

std::string revocation_message(std::vector<std::string> const& ids, std::string const& list_product = product)
{
    Json revoked = Json::array();
    for (auto const& id : ids)
        revoked.push_back(id);
    return R"({"iss":"Acme Inc.","iat":"2026-11-28T09:00:00Z","product":")" + list_product + R"(","revoked":)" + revoked.dump() + "}";
}

std::string revocation_list(std::vector<std::string> const& ids, keygen::SigningKey const& key = k1)
{
    return sign(revocation_message(ids), key, std::nullopt, std::string("charter-revocations:") + product);
}

struct Case {
    Case(std::string name_, std::string description_, Json token_, std::string status_)
        : name(std::move(name_))
        , description(std::move(description_))
        , token(std::move(token_))
        , status(std::move(status_))
    {
    }

    std::string name;
    std::string description;
    Json token; // a string, or pieces (see "expand" in README.md)
    std::string status;
    std::vector<std::string> keys { k1.paserk_public() };
    std::string product_id = product;
    int64_t now = t0;
    int64_t leeway = 0;
    std::optional<int64_t> build_time;
    std::optional<Json> revocations;
    std::optional<std::string> claims_message; // for a valid case: the message, as signed
};

std::vector<Case> cases;

void add(Case c)
{
    for (auto const& other : cases) {
        if (other.name == c.name) {
            std::cerr << "make_conformance: two cases named " << c.name << "\n";
            std::exit(1);
        }
    }
    cases.push_back(std::move(c));
}

// A license signed by k1 whose expected status is `status`; valid ones carry their claims.
void license_case(std::string name, std::string description, std::string const& message, std::string status)
{
    Case c { std::move(name), std::move(description), sign(message), std::move(status) };
    if (c.status == "valid")
        c.claims_message = message;
    add(std::move(c));
}

Json repeat(std::string const& text, size_t count) { return Json { { "repeat", text }, { "count", count } }; }

void layout_cases()
{
    std::string valid = sign(claims());
    auto dot = valid.rfind('.');
    std::string payload = valid.substr(10, dot - 10);
    std::string footer = valid.substr(dot + 1);

    Case base { "valid-baseline", "a license exactly as charter issues it", valid, "valid" };
    base.claims_message = claims();
    add(base);
    add({ "layout-empty", "the empty string", "", "malformed" });
    add({ "layout-local", "a v4.local header", "v4.local." + valid.substr(10), "malformed" });
    add({ "layout-upper-case-header", "the header in upper case", "V4.PUBLIC." + valid.substr(10), "malformed" });
    add({ "layout-v3", "a v3.public header", "v3.public." + valid.substr(10), "malformed" });
    add({ "layout-leading-space", "whitespace before the header is not trimmed", " " + valid, "malformed" });
    add({ "layout-trailing-newline", "a trailing newline is not base64url (in the footer)", valid + "\n", "bad_encoding" });
    add({ "layout-trailing-newline-no-footer", "a trailing newline in a payload", "v4.public." + payload + "\n", "bad_encoding" });
    add({ "layout-header-only", "no payload at all", "v4.public.", "malformed" });
    add({ "layout-payload-63-bytes", "a payload one byte shorter than a signature", "v4.public." + b64(std::string(63, 'x')) + "." + footer,
        "malformed" });
    add({ "layout-extra-part", "a fifth dot-separated part", valid + ".e30", "malformed" });
    add({ "layout-empty-footer", "a dot followed by nothing", "v4.public." + payload + ".", "malformed" });
    add({ "layout-short-garbage", "a payload shorter than a signature, before any key is looked at", "v4.public.AAAA", "malformed" });

    add({ "encoding-padding", "base64 padding in the payload", "v4.public." + payload + "==." + footer, "bad_encoding" });
    std::string plus = payload;
    plus[5] = '+';
    add({ "encoding-plus", "'+' (standard base64) in the payload", "v4.public." + plus + "." + footer, "bad_encoding" });
    std::string slash = payload;
    slash[5] = '/';
    add({ "encoding-slash", "'/' (standard base64) in the payload", "v4.public." + slash + "." + footer, "bad_encoding" });
    add({ "encoding-length-1-mod-4", "a payload whose length is 1 more than a multiple of 4",
        "v4.public." + payload.substr(0, payload.size() - payload.size() % 4) + "A." + footer, "bad_encoding" });
    std::string non_ascii = payload;
    non_ascii.replace(5, 1, "\xc3\xa9");
    add({ "encoding-non-ascii", "a non-ASCII character (U+00E9) in the payload", "v4.public." + non_ascii + "." + footer, "bad_encoding" });
    std::string nul = payload;
    nul[5] = '\0';
    add({ "encoding-nul", "a NUL byte in the payload", "v4.public." + nul + "." + footer, "bad_encoding" });
    std::string space = payload;
    space[5] = ' ';
    add({ "encoding-space", "a space in the payload", "v4.public." + space + "." + footer, "bad_encoding" });
    add({ "encoding-footer-padding", "base64 padding in the footer", valid + "=", "bad_encoding" });
    add({ "encoding-footer-bad-character", "a '*' in the footer", valid.substr(0, valid.size() - 1) + "*", "bad_encoding" });

    // Trailing bits: the last character of a 2- or 3-character final group carries unused
    // low bits, which must be zero. Messages of the right length put the payload there.
    for (size_t extra = 0; extra < 3; ++extra) {
        std::string message = claims(",\"pad\":\"" + std::string(extra, 'x') + "\"");
        size_t leftover = (message.size() + 64) % 3;
        if (leftover == 0)
            continue;
        std::string token = sign(message);
        auto token_dot = token.rfind('.');
        std::string tampered = token;
        char& last = tampered[token_dot - 1];
        // Set the lowest bit: still base64url, now with a non-zero unused bit.
        last = last == 'A' ? 'B' : last == 'Q' ? 'R' : last == 'g' ? 'h' : last == 'w' ? 'x' : last == 'E' ? 'F' : last == 'I' ? 'J'
            : last == 'M' ? 'N' : last == 'U' ? 'V' : last == 'Y' ? 'Z' : last == 'c' ? 'd' : last == 'k' ? 'l' : last == 'o' ? 'p'
            : last == 's' ? 't' : last == '0' ? '1' : last == '4' ? '5' : last == '8' ? '9' : '?';
        std::string group = leftover == 1 ? "2-character" : "3-character";
        Case ok { "encoding-final-" + group + "-group", "a payload ending in a " + group + " group, canonical", token, "valid" };
        ok.claims_message = message;
        add(ok);
        add({ "encoding-trailing-bits-" + group, "a payload ending in a " + group + " group with a non-zero unused bit", tampered,
            "bad_encoding" });
    }
    // The footer {"kid":"k4.pid.…"} is 61 bytes: its final group has 2 characters.
    std::string footer_bits = valid;
    footer_bits.back() = footer_bits.back() == '9' ? '8' : char(footer_bits.back() + 1);
    add({ "encoding-footer-trailing-bits", "the footer's last character with a non-zero unused bit", footer_bits, "bad_encoding" });

    // Size: 16384 bytes is the limit, checked before anything else.
    std::string fill;
    for (;; fill += 'x') {
        std::string message = claims(",\"meta\":{\"fill\":\"" + fill + "\"}");
        std::string token = sign(message);
        if (token.size() == CHARTER_MAX_TOKEN_SIZE) {
            Case at_limit { "size-exactly-16384", "a license of exactly 16384 bytes", token, "valid" };
            at_limit.claims_message = message;
            add(at_limit);
        }
        if (token.size() > CHARTER_MAX_TOKEN_SIZE) {
            add({ "size-over-16384", "a genuine license one step over 16384 bytes (" + std::to_string(token.size()) + ")", token,
                "too_large" });
            break;
        }
    }
    add({ "size-garbage-16385", "16385 bytes of garbage: too large before malformed", Json::array({ repeat("x", 16385) }), "too_large" });
    add({ "size-16385-newlines", "16385 newlines", Json::array({ repeat("\n", 16385) }), "too_large" });

    // No footer: every trusted key is tried.
    Case no_footer { "footer-absent", "a token without a footer, signed with an empty footer", sign_without_footer(claims()), "valid" };
    no_footer.claims_message = claims();
    add(no_footer);
    Case second { "footer-absent-second-key", "no footer; the second trusted key signed it", sign_without_footer(claims(), k2), "valid" };
    second.keys = { k1.paserk_public(), k2.paserk_public() };
    second.claims_message = claims();
    add(second);
    add({ "footer-absent-untrusted", "no footer; signed by a key not trusted", sign_without_footer(claims(), k3), "bad_signature" });
    add({ "footer-absent-but-signed-with-footer", "the footer removed from a token signed with it", "v4.public." + payload,
        "bad_signature" });
}

void footer_cases()
{
    std::string kid = k1.kid();
    auto with_footer = [&](std::string name, std::string description, std::string const& footer, std::string status) {
        Case c { std::move(name), std::move(description), sign(claims(), k1, footer), std::move(status) };
        if (c.status == "valid")
            c.claims_message = claims();
        add(std::move(c));
    };
    with_footer("footer-not-json", "a footer that is not JSON", "kid=" + kid, "bad_footer");
    with_footer("footer-array", "a JSON array footer", "[\"" + kid + "\"]", "bad_footer");
    with_footer("footer-no-kid", "an object without kid", R"({"key":")" + kid + "\"}", "bad_footer");
    with_footer("footer-kid-number", "kid is a number", R"({"kid":4})", "bad_footer");
    with_footer("footer-kid-null", "kid is null", R"({"kid":null})", "bad_footer");
    with_footer("footer-kid-not-pid", "kid does not start with k4.pid.", R"({"kid":"k4.lid.)" + kid.substr(7) + "\"}", "bad_footer");
    with_footer("footer-kid-upper-case", "kid starts with K4.PID.", R"({"kid":"K4.PID.)" + kid.substr(7) + "\"}", "bad_footer");
    with_footer("footer-whitespace", "JSON whitespace inside the footer", "{ \"kid\" :\t\"" + kid + "\"\n}", "valid");
    with_footer("footer-extra-member", "another member besides kid is ignored", R"({"kid":")" + kid + R"(","wpk":"x"})", "valid");
    with_footer("footer-duplicate-kid", "kid twice", R"({"kid":")" + kid + R"(","kid":")" + kid + "\"}", "bad_footer");
    with_footer("footer-escaped-kid", "kid with an escaped character, equal once decoded", R"({"kid":"\u006b4.pid.)" + kid.substr(7) + "\"}",
        "valid");
    with_footer("footer-invalid-utf8", "invalid UTF-8 in the footer", R"({"kid":")" + kid + "\",\"x\":\"\xff\"}", "bad_footer");
    with_footer("footer-bom", "a UTF-8 byte-order mark before the footer object", "\xEF\xBB\xBF" + footer_of(k1), "valid");
    with_footer("footer-too-deep", "a footer nested 17 levels deep",
        R"({"kid":")" + kid + R"(","x":)" + std::string(15, '[') + "[]" + std::string(15, ']') + "}", "bad_footer");
    with_footer("footer-depth-16", "a footer nested 16 levels deep",
        R"({"kid":")" + kid + R"(","x":)" + std::string(14, '[') + "[]" + std::string(14, ']') + "}", "valid");
    with_footer("footer-trailing-data", "something after the footer object", footer_of(k1) + "x", "bad_footer");
    with_footer("footer-kid-empty-pid", "kid is exactly k4.pid.", R"({"kid":"k4.pid."})", "unknown_key");
    with_footer("footer-kid-altered", "kid of no trusted key", R"({"kid":")" + kid.substr(0, kid.size() - 1) + (kid.back() == 'A' ? "B" : "A") + "\"}",
        "unknown_key");

    add({ "key-unknown-kid", "signed by a key the verifier does not trust", sign(claims(), k3), "unknown_key" });
    add({ "key-second-key-kid-not-trusted", "kid of k2 while only k1 is trusted", sign(claims(), k2), "unknown_key" });
    Case second { "key-second-of-two", "kid of the second trusted key", sign(claims(), k2), "valid" };
    second.keys = { k1.paserk_public(), k2.paserk_public() };
    second.claims_message = claims();
    add(second);
    add({ "key-kid-of-k1-signed-by-k2", "the footer names k1, k2 signed", sign(claims(), k2, footer_of(k1)), "bad_signature" });
    Case none { "key-none-trusted", "no key configured", sign(claims()), "no_keys" };
    none.keys = {};
    add(none);
    Case none_bad_footer { "key-none-trusted-bad-footer", "no key configured is checked before the footer", sign(claims(), k1, "x"), "no_keys" };
    none_bad_footer.keys = {};
    add(none_bad_footer);
    Case none_malformed { "key-none-trusted-malformed", "decoding comes before the keys", "v4.public.AAAA", "malformed" };
    none_malformed.keys = {};
    add(none_malformed);

    auto bad_key = [&](std::string name, std::string description, std::string key) {
        Case c { std::move(name), std::move(description), sign(claims()), "bad_key" };
        c.keys = { k1.paserk_public(), std::move(key) };
        add(std::move(c));
    };
    std::string pub = k1.paserk_public();
    bad_key("config-key-short", "a trusted key of 31 bytes", "k4.public." + b64(std::string(31, 'k')));
    bad_key("config-key-long", "a trusted key of 33 bytes", "k4.public." + b64(std::string(33, 'k')));
    bad_key("config-key-secret", "a k4.secret where a public key belongs", k1.paserk_secret());
    bad_key("config-key-pid", "a k4.pid where a public key belongs", k1.kid());
    bad_key("config-key-padding", "a public key with base64 padding", pub + "=");
    bad_key("config-key-trailing-bits", "a public key with a non-zero unused bit",
        pub.substr(0, pub.size() - 1) + (pub.back() == '8' ? "9" : std::string(1, char(pub.back() + 1))));
    bad_key("config-key-upper-case", "K4.PUBLIC.", "K4.PUBLIC." + pub.substr(10));
    bad_key("config-key-whitespace", "a public key with a trailing newline", pub + "\n");
    Case twice { "config-key-twice", "the same key trusted twice", sign(claims()), "valid" };
    twice.keys = { pub, pub };
    twice.claims_message = claims();
    add(twice);
}

void signature_cases()
{
    std::string valid = sign(claims());
    auto dot = valid.rfind('.');
    auto payload = *format::base64url_decode(valid.substr(10, dot - 10));
    std::string message = payload.substr(0, payload.size() - 64);
    std::string signature = payload.substr(payload.size() - 64);
    std::string footer = footer_of(k1);

    std::string altered_message = message;
    altered_message.replace(altered_message.find("Acme Inc."), 9, "Acme Inc!");
    add({ "signature-message-altered", "one character of the message changed", assemble(altered_message, signature, footer), "bad_signature" });
    std::string altered_signature = signature;
    altered_signature[10] ^= 1;
    add({ "signature-altered", "one bit of the signature flipped", assemble(message, altered_signature, footer), "bad_signature" });
    add({ "signature-footer-altered", "the footer re-encoded with whitespace, signature unchanged",
        assemble(message, signature, "{\"kid\": \"" + k1.kid() + "\"}"), "bad_signature" });
    add({ "signature-zero", "an all-zero signature", assemble(message, std::string(64, '\0'), footer), "bad_signature" });

    // S + L: the same signature with a non-canonical scalar, refused by libsodium (and RFC 8032).
    static unsigned char const order[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
    std::string non_canonical = signature;
    unsigned carry = 0;
    for (int i = 0; i < 32; ++i) {
        unsigned sum = static_cast<unsigned char>(non_canonical[32 + i]) + order[i] + carry;
        non_canonical[32 + i] = static_cast<char>(sum & 0xff);
        carry = sum >> 8;
    }
    add({ "signature-non-canonical-s", "S replaced by S + L (the group order)", assemble(message, non_canonical, footer), "bad_signature" });

    // PAE variations: each signed by k1, none over the exact PAE a verifier builds.
    auto pae_case = [&](std::string name, std::string description, std::string const& signed_bytes) {
        add({ std::move(name), std::move(description), assemble(message, raw_signature(k1, signed_bytes), footer), "bad_signature" });
    };
    pae_case("pae-three-pieces", "signed over PAE(h, m, f), without the implicit assertion",
        format::pae({ "v4.public.", message, footer }));
    pae_case("pae-empty-assertion", "signed with an empty implicit assertion", format::pae({ "v4.public.", message, footer, "" }));
    pae_case("pae-local-header", "signed with the header v4.local.", format::pae({ "v4.local.", message, footer, product }));
    pae_case("pae-no-footer-piece", "signed with an empty footer piece while the token has a footer",
        format::pae({ "v4.public.", message, "", product }));
    pae_case("pae-plain-concatenation", "signed over header || message || footer || assertion, not PAE",
        std::string("v4.public.") + message + footer + product);
    pae_case("pae-revocation-assertion", "a license signed with the revocation list assertion",
        format::pae({ "v4.public.", message, footer, "charter-revocations:acme-pro" }));

    // Another product: the implicit assertion differs.
    std::string basic_claims = R"({"iss":"Acme Inc.","sub":"cus_CONFORMANCE00000000001","jti":"lic_CONFORMANCE00000000001","iat":"2026-11-28T10:00:00Z","product":"acme-basic"})";
    add({ "product-genuine-other-product", "a genuine key of acme-basic, checked for acme-pro", sign(basic_claims, k1, std::nullopt, "acme-basic"),
        "wrong_product" });
    add({ "product-genuine-other-product-no-footer", "a genuine key of acme-basic without a footer",
        sign_without_footer(basic_claims, k1, "acme-basic"), "wrong_product" });
    add({ "product-other-product-untrusted", "a key of acme-basic by an untrusted key", sign(basic_claims, k3, std::nullopt, "acme-basic"),
        "unknown_key" });
    std::string basic = sign(basic_claims + " ", k1, std::nullopt, "acme-basic");
    basic[30] = basic[30] == 'A' ? 'B' : 'A';
    add({ "product-other-product-altered", "a key of acme-basic, altered", basic, "bad_signature" });
    add({ "product-claim-differs", "signed for acme-pro, but its product claim says acme-basic", sign(basic_claims), "wrong_product" });
    add({ "product-signed-for-other-claims-this", "signed for acme-basic, claims acme-pro", sign(claims(), k1, std::nullopt, "acme-basic"),
        "bad_signature" });
    Case other_verifier { "product-verifier-other", "a genuine acme-pro key checked by an acme-basic verifier", sign(claims()), "wrong_product" };
    other_verifier.product_id = "acme-basic";
    add(other_verifier);
    add({ "product-claim-case", "product claim ACME-PRO", sign(R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","iat":"2026-11-28T10:00:00Z","product":"ACME-PRO"})"),
        "wrong_product" });

    // Ed25519 edge: a small-order public key (the identity) with R = identity and S = 0
    // satisfies the cofactorless equation for every message; libsodium refuses small-order keys
    // and R, and so must every verifier.
    std::string identity(32, '\0');
    identity[0] = 1;
    std::string small_order_key = "k4.public." + b64(identity);
    auto pid = [&](std::string const& paserk) {
        std::string input = "k4.pid." + paserk;
        unsigned char digest[33];
        crypto_generichash(digest, sizeof digest, reinterpret_cast<unsigned char const*>(input.data()), input.size(), nullptr, 0);
        return "k4.pid." + format::base64url_encode(digest, sizeof digest);
    };
    std::string forged_footer = format::make_footer(pid(small_order_key));
    Case small_order { "signature-small-order-key", "the identity point as public key, R = identity, S = 0",
        assemble(claims(), identity + std::string(32, '\0'), forged_footer), "bad_signature" };
    small_order.keys = { small_order_key };
    add(small_order);
}

void json_cases()
{
    auto bad = [&](std::string name, std::string description, std::string const& message) {
        license_case(std::move(name), std::move(description), message, "bad_claims");
    };
    auto good = [&](std::string name, std::string description, std::string const& message) {
        license_case(std::move(name), std::move(description), message, "valid");
    };
    bad("json-not-json", "a message that is not JSON", "hello");
    bad("json-empty", "an empty message", "");
    bad("json-array", "a JSON array", "[" + claims() + "]");
    bad("json-string", "a JSON string", "\"acme-pro\"");
    bad("json-null", "JSON null", "null");
    bad("json-duplicate-top", "jti twice", claims(",\"jti\":\"lic_other\""));
    bad("json-duplicate-after-escape", "jti and its escaped spelling", claims(R"(,"\u006a\u0074\u0069":"lic_other")"));
    bad("json-duplicate-nested", "a duplicate key inside meta", claims(R"(,"meta":{"a":1,"a":2})"));
    bad("json-duplicate-deep", "a duplicate key four levels down", claims(R"(,"meta":{"a":[{"b":{"c":1,"c":1}}]})"));
    good("json-same-key-different-objects", "the same key in sibling objects", claims(R"(,"meta":{"a":{"k":1},"b":{"k":2},"k":3})"));
    good("json-depth-16", "an unknown claim nested to the 16th level", claims(",\"x\":" + std::string(14, '[') + "{}" + std::string(14, ']')));
    bad("json-depth-17-arrays", "an unknown claim nested to the 17th level (arrays)", claims(",\"x\":" + std::string(15, '[') + "[]" + std::string(15, ']')));
    std::string deep_objects = "{}";
    for (int i = 0; i < 15; ++i)
        deep_objects = "{\"a\":" + deep_objects + "}";
    bad("json-depth-17-objects", "meta nested to the 17th level (objects)", claims(",\"meta\":" + deep_objects));
    std::string deep_16 = "{}";
    for (int i = 0; i < 14; ++i)
        deep_16 = "{\"a\":" + deep_16 + "}";
    good("json-depth-16-objects", "meta nested to the 16th level (objects)", claims(",\"meta\":" + deep_16));
    bad("json-utf8-invalid-byte", "a 0xFF byte in a string", claims(",\"name\":\"a\xff\""));
    bad("json-utf8-overlong", "an overlong encoding of '/'", claims(",\"name\":\"\xc0\xaf\""));
    bad("json-utf8-overlong-3", "an overlong three-byte encoding", claims(",\"name\":\"\xe0\x80\xaf\""));
    bad("json-utf8-surrogate", "an encoded surrogate code point (U+D800)", claims(",\"name\":\"\xed\xa0\x80\""));
    bad("json-utf8-above-max", "a code point above U+10FFFF", claims(",\"name\":\"\xf4\x90\x80\x80\""));
    bad("json-utf8-truncated", "a truncated three-byte sequence", claims(",\"name\":\"\xe2\x82\""));
    bad("json-utf8-lone-continuation", "a lone continuation byte", claims(",\"name\":\"\x80\""));
    bad("json-utf8-outside-string", "invalid UTF-8 outside any string", claims(",\"name\":\"x\"\xff"));
    good("json-utf8-four-byte", "a four-byte UTF-8 character", claims(",\"name\":\"J\xf0\x9f\x98\x80\""));
    good("json-utf8-max", "U+10FFFF", claims(",\"name\":\"\xf4\x8f\xbf\xbf\""));
    bad("json-lone-high-surrogate", "an escaped lone high surrogate", claims(R"(,"name":"\ud800")"));
    bad("json-lone-low-surrogate", "an escaped lone low surrogate", claims(R"(,"name":"\udc00")"));
    bad("json-reversed-surrogates", "a low surrogate before a high one", claims(R"(,"name":"\udc00\ud800")"));
    good("json-surrogate-pair", "an escaped surrogate pair", claims(R"(,"name":"\ud83d\ude00")"));
    good("json-escapes", "every JSON escape", claims(R"(,"name":"\" \\ \/ \b \f \n \r \t \u0041")"));
    good("json-escaped-nul", "an escaped NUL in a string", claims(R"(,"name":"a\u0000b")"));
    bad("json-raw-control", "a raw tab inside a string", claims(",\"name\":\"a\tb\""));
    bad("json-raw-newline", "a raw newline inside a string", claims(",\"name\":\"a\nb\""));
    bad("json-raw-nul", "a raw NUL inside a string", claims(std::string(",\"name\":\"a") + '\0' + "b\""));
    bad("json-bad-escape", "an unknown escape \\x", claims(R"(,"name":"\x41")"));
    bad("json-short-unicode-escape", "\\u with three digits", claims(R"(,"name":"\u041")"));
    bad("json-trailing-comma", "a trailing comma", claims(",\"name\":\"x\","));
    bad("json-comment", "a comment", claims(" /* c */"));
    bad("json-nan", "NaN", claims(",\"meta\":{\"x\":NaN}"));
    bad("json-infinity", "Infinity", claims(",\"meta\":{\"x\":Infinity}"));
    bad("json-single-quotes", "a single-quoted string", claims(",'name':'x'"));
    bad("json-trailing-garbage", "text after the object", claims() + "x");
    bad("json-two-objects", "two objects", claims() + "{}");
    bad("json-unterminated", "an unterminated object", claims().substr(0, claims().size() - 1));
    good("json-whitespace", "space, tab, LF and CR around and inside", " \t\r\n" + claims().insert(1, "\n ") + "\r\n\t ");
    bad("json-form-feed", "a form feed is not JSON whitespace", claims() + "\f");
    bad("json-nbsp", "a no-break space is not JSON whitespace", claims() + "\xc2\xa0");
    good("json-bom", "a UTF-8 byte-order mark before the object", "\xEF\xBB\xBF" + claims());
    bad("json-bom-after-space", "a byte-order mark after whitespace", " \xEF\xBB\xBF" + claims());
    bad("json-leading-zero", "a number with a leading zero", claims(",\"meta\":{\"x\":01}"));
    bad("json-trailing-dot", "a number ending in a dot", claims(",\"meta\":{\"x\":1.}"));
    bad("json-leading-dot", "a number starting with a dot", claims(",\"meta\":{\"x\":.5}"));
    bad("json-plus-sign", "a number with a plus sign", claims(",\"meta\":{\"x\":+1}"));
    bad("json-lone-minus", "a lone minus", claims(",\"meta\":{\"x\":-}"));
    bad("json-hex", "a hexadecimal number", claims(",\"meta\":{\"x\":0x10}"));
    bad("json-empty-exponent", "an exponent without digits", claims(",\"meta\":{\"x\":1e}"));
    good("json-exponent", "numbers with exponents and fractions", claims(",\"meta\":{\"a\":1e5,\"b\":-2.5E-3,\"c\":0.0,\"d\":1E+2}"));
    bad("json-float-overflow", "a number too large for a double", claims(",\"meta\":{\"x\":1e400}"));
    bad("json-integer-overflow-double", "an integer of 400 digits", claims(",\"meta\":{\"x\":1" + std::string(400, '0') + "}"));
    good("json-float-underflow", "a number that underflows to zero", claims(",\"meta\":{\"x\":1e-400}"));
    good("json-big-integer", "an integer beyond 64 bits in meta", claims(",\"meta\":{\"x\":123456789012345678901234567890}"));
    bad("json-bad-literal", "tru instead of true", claims(",\"meta\":{\"x\":tru}"));
    bad("json-upper-literal", "TRUE", claims(",\"meta\":{\"x\":TRUE}"));
    good("json-literals", "true, false and null inside meta", claims(",\"meta\":{\"t\":true,\"f\":false,\"n\":null}"));
    good("json-unknown-claims", "claims a verifier does not know are ignored", claims(",\"aud\":\"x\",\"plan\":{\"tier\":2}"));
    good("json-member-order", "claims in another order",
        R"({"product":"acme-pro","iat":"2026-11-28T10:00:00Z","jti":"lic_CONFORMANCE00000000001","sub":"cus_CONFORMANCE00000000001","iss":"Acme Inc."})");
}

void claim_cases()
{
    std::string const iss = R"("iss":"Acme Inc.")", sub = R"("sub":"cus_1")", jti = R"("jti":"lic_1")",
                      iat = R"("iat":"2026-11-28T10:00:00Z")", prod = R"("product":"acme-pro")";
    auto object = [](std::vector<std::string> const& members) {
        std::string text = "{";
        for (size_t i = 0; i < members.size(); ++i)
            text += (i ? "," : "") + members[i];
        return text + "}";
    };
    license_case("claim-missing-iss", "no iss", object({ sub, jti, iat, prod }), "missing_claim");
    license_case("claim-missing-sub", "no sub", object({ iss, jti, iat, prod }), "missing_claim");
    license_case("claim-missing-jti", "no jti", object({ iss, sub, iat, prod }), "missing_claim");
    license_case("claim-missing-iat", "no iat", object({ iss, sub, jti, prod }), "missing_claim");
    license_case("claim-missing-product", "no product claim (the signature still binds acme-pro)", object({ iss, sub, jti, iat }),
        "missing_claim");
    license_case("claim-empty-object", "{}", "{}", "missing_claim");
    license_case("claim-minimal", "exactly the required claims", object({ iss, sub, jti, iat, prod }), "valid");

    auto typed = [&](std::string name, std::string member, std::string status) {
        license_case("claim-" + name, "claim " + member, claims("," + member), std::move(status));
    };
    auto replace = [&](std::string name, std::string description, std::vector<std::string> members, std::string status) {
        license_case("claim-" + std::move(name), std::move(description), object(members), std::move(status));
    };
    replace("iss-number", "iss is a number", { R"("iss":1)", sub, jti, iat, prod }, "wrong_claim_type");
    replace("sub-null", "sub is null (null is not absent)", { iss, R"("sub":null)", jti, iat, prod }, "wrong_claim_type");
    replace("jti-array", "jti is an array", { iss, sub, R"("jti":["lic_1"])", iat, prod }, "wrong_claim_type");
    replace("product-number", "product is a number", { iss, sub, jti, iat, R"("product":1)" }, "wrong_claim_type");
    replace("iat-number", "iat is a Unix time number", { iss, sub, jti, R"("iat":1795860000)", prod }, "wrong_claim_type");
    replace("iat-date-only", "iat is a date without time", { iss, sub, jti, R"("iat":"2026-11-28")", prod }, "wrong_claim_type");
    replace("order-iss-type-before-sub-missing", "iss has the wrong type and sub is missing: iss is reported",
        { R"("iss":1)", jti, iat, prod }, "wrong_claim_type");
    replace("order-iss-missing-before-sub-type", "iss is missing and sub has the wrong type: iss is reported",
        { R"("sub":1)", jti, iat, prod }, "missing_claim");
    replace("order-iat-missing-before-name-type", "iat missing, name a number: iat is reported", { iss, sub, jti, prod, R"("name":1)" },
        "missing_claim");
    typed("name-null", R"("name":null)", "wrong_claim_type");
    typed("name-number", R"("name":7)", "wrong_claim_type");
    typed("name-string", R"("name":"Jane Doe")", "valid");
    typed("nbf-number", R"("nbf":1795860000)", "wrong_claim_type");
    typed("exp-number", R"("exp":1795860000)", "wrong_claim_type");
    typed("exp-null", R"("exp":null)", "wrong_claim_type");
    typed("updates-until-bad", R"("updates_until":"soon")", "wrong_claim_type");
    typed("seats-string", R"("seats":"5")", "wrong_claim_type");
    typed("seats-fraction", R"("seats":25.0)", "wrong_claim_type");
    typed("seats-exponent", R"("seats":2.5e1)", "wrong_claim_type");
    typed("seats-exponent-integer", R"("seats":1e2)", "wrong_claim_type");
    typed("seats-negative", R"("seats":-1)", "wrong_claim_type");
    typed("seats-minus-zero", R"("seats":-0)", "valid");
    typed("seats-zero", R"("seats":0)", "valid");
    typed("seats-int64-max", R"("seats":9223372036854775807)", "valid");
    typed("seats-int64-max-plus-1", R"("seats":9223372036854775808)", "wrong_claim_type");
    typed("seats-uint64-max", R"("seats":18446744073709551615)", "wrong_claim_type");
    typed("seats-beyond-uint64", R"("seats":18446744073709551616)", "wrong_claim_type");
    typed("seats-bool", R"("seats":true)", "wrong_claim_type");
    typed("entitlements-string", R"("entitlements":"sso")", "wrong_claim_type");
    typed("entitlements-number-element", R"("entitlements":["sso",1])", "wrong_claim_type");
    typed("entitlements-nested-array", R"("entitlements":[["sso"]])", "wrong_claim_type");
    typed("entitlements-null-element", R"("entitlements":[null])", "wrong_claim_type");
    typed("entitlements-object", R"("entitlements":{"sso":true})", "wrong_claim_type");
    typed("entitlements-empty", R"("entitlements":[])", "valid");
    typed("entitlements-two", R"("entitlements":["sso","audit-log"])", "valid");
    typed("entitlements-duplicate-values", R"("entitlements":["sso","sso"])", "valid");
    typed("meta-array", R"("meta":[1])", "wrong_claim_type");
    typed("meta-string", R"("meta":"x")", "wrong_claim_type");
    typed("meta-null", R"("meta":null)", "wrong_claim_type");
    typed("meta-object", R"("meta":{"order":"A-1001","n":[1,{"x":null}]})", "valid");
    typed("order-seats-before-entitlements", R"("seats":-1,"entitlements":"x")", "wrong_claim_type");
    typed("full", R"("nbf":"2026-11-01T00:00:00Z","exp":"2027-11-28T10:00:00Z","name":"Jane Doe","entitlements":["sso"],"updates_until":"2027-05-28T10:00:00Z","seats":5,"meta":{"order":"A-1001"})",
        "valid");
}

void time_cases()
{
    // RFC 3339 forms, in exp (a valid exp is in the future of t0).
    auto exp_form = [&](std::string name, std::string const& value, bool valid) {
        license_case("time-" + name, "exp \"" + value + "\"", claims(",\"exp\":\"" + value + "\""), valid ? "valid" : "wrong_claim_type");
    };
    exp_form("utc", "2027-11-28T10:00:00Z", true);
    exp_form("lower-t", "2027-11-28t10:00:00Z", false);
    exp_form("lower-z", "2027-11-28T10:00:00z", false);
    exp_form("space", "2027-11-28 10:00:00Z", false);
    exp_form("no-seconds", "2027-11-28T10:00Z", false);
    exp_form("no-offset", "2027-11-28T10:00:00", false);
    exp_form("offset-no-colon", "2027-11-28T10:00:00+0100", false);
    exp_form("hour-24", "2027-11-28T24:00:00Z", false);
    exp_form("minute-60", "2027-11-28T10:60:00Z", false);
    exp_form("leap-second", "2027-06-30T23:59:60Z", false);
    exp_form("month-13", "2027-13-01T00:00:00Z", false);
    exp_form("month-00", "2027-00-01T00:00:00Z", false);
    exp_form("day-00", "2027-01-00T00:00:00Z", false);
    exp_form("february-30", "2028-02-30T00:00:00Z", false);
    exp_form("leap-day", "2028-02-29T00:00:00Z", true);
    exp_form("leap-day-common-year", "2027-02-29T00:00:00Z", false);
    exp_form("leap-day-2100", "2100-02-29T00:00:00Z", false);
    exp_form("leap-day-2400", "2400-02-29T00:00:00Z", true);
    exp_form("april-31", "2027-04-31T00:00:00Z", false);
    exp_form("fraction", "2027-11-28T10:00:00.5Z", true);
    exp_form("long-fraction", "2027-11-28T10:00:00.123456789012Z", true);
    exp_form("dot-no-digits", "2027-11-28T10:00:00.Z", false);
    exp_form("comma-fraction", "2027-11-28T10:00:00,5Z", false);
    exp_form("offset", "2027-11-28T11:00:00+01:00", true);
    exp_form("negative-offset", "2027-11-28T09:00:00-01:00", true);
    exp_form("minus-zero-offset", "2027-11-28T10:00:00-00:00", true);
    exp_form("offset-23-59", "2027-11-28T10:00:00+23:59", true);
    exp_form("offset-hour-24", "2027-11-28T10:00:00+24:00", false);
    exp_form("offset-minute-60", "2027-11-28T10:00:00+01:60", false);
    exp_form("offset-short", "2027-11-28T10:00:00+01", false);
    exp_form("fraction-and-offset", "2027-11-28T10:00:00.25+05:30", true);
    exp_form("leading-space", " 2027-11-28T10:00:00Z", false);
    exp_form("trailing-space", "2027-11-28T10:00:00Z ", false);
    exp_form("five-digit-year", "20270-11-28T10:00:00Z", false);
    exp_form("year-9999", "9999-12-31T23:59:59Z", true);
    exp_form("beyond-9999-by-offset", "9999-12-31T23:59:59-00:01", false);
    exp_form("unicode-digit", "2027-11-28T10:00:0\xd9\xa1Z", false);
    exp_form("plus-sign-year", "+2027-11-28T10:00:00Z", false);
    license_case("time-before-year-0-by-offset", "iat \"0000-01-01T00:00:00+00:01\" (before year 0 in UTC)",
        R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","iat":"0000-01-01T00:00:00+00:01","product":"acme-pro"})", "wrong_claim_type");
    license_case("time-year-0", "iat \"0000-01-01T00:00:00Z\"",
        R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","iat":"0000-01-01T00:00:00Z","product":"acme-pro"})", "valid");
    license_case("time-iat-future", "iat far in the future is never compared with the clock",
        R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","iat":"2999-01-01T00:00:00Z","product":"acme-pro"})", "valid");

    // Clock boundaries. exp = 2027-11-28T10:00:00Z, nbf = 2026-12-01T00:00:00Z.
    int64_t const exp = 1827396000, nbf = 1764547200;
    std::string const exp_claims = claims(",\"exp\":\"2027-11-28T10:00:00Z\"");
    std::string const nbf_claims = claims(",\"nbf\":\"2025-12-01T00:00:00Z\"");
    // A case signed from `message`, checked at `now` with `leeway` and `build_time`.
    auto built = [&](std::string name, std::string description, std::string const& message, std::optional<int64_t> build_time,
                     int64_t leeway, std::string status, int64_t now = t0) {
        Case c { std::move(name), std::move(description), sign(message), std::move(status) };
        c.build_time = build_time;
        c.leeway = leeway;
        c.now = now;
        if (c.status == "valid")
            c.claims_message = message;
        add(std::move(c));
    };
    auto at = [&](std::string name, std::string description, std::string const& message, int64_t now, int64_t leeway, std::string status) {
        built(std::move(name), std::move(description), message, std::nullopt, leeway, std::move(status), now);
    };
    at("clock-exactly-at-exp", "now equals exp: still valid", exp_claims, exp, 0, "valid");
    at("clock-one-second-after-exp", "now = exp + 1", exp_claims, exp + 1, 0, "expired");
    at("clock-long-after-exp", "now a year after exp", exp_claims, exp + 365 * 86400, 0, "expired");
    at("clock-leeway-edge-exp", "now = exp + leeway", exp_claims, exp + 300, 300, "valid");
    at("clock-leeway-past-exp", "now = exp + leeway + 1", exp_claims, exp + 301, 300, "expired");
    at("clock-exactly-at-nbf", "now equals nbf", nbf_claims, nbf, 0, "valid");
    at("clock-one-second-before-nbf", "now = nbf - 1", nbf_claims, nbf - 1, 0, "not_yet_valid");
    at("clock-leeway-edge-nbf", "now = nbf - leeway", nbf_claims, nbf - 300, 300, "valid");
    at("clock-leeway-before-nbf", "now = nbf - leeway - 1", nbf_claims, nbf - 301, 300, "not_yet_valid");
    at("clock-negative-now", "a clock before 1970 and a perpetual license", claims(), -86400, 0, "valid");
    at("clock-fraction-ignored", "exp with a fraction: the whole second counts", claims(",\"exp\":\"2027-11-28T10:00:00.999Z\""), exp, 0,
        "valid");
    at("clock-fraction-next-second", "exp with a fraction, one second later", claims(",\"exp\":\"2027-11-28T10:00:00.999Z\""), exp + 1, 0,
        "expired");
    at("clock-offset-exp", "exp with an offset, exactly at it", claims(",\"exp\":\"2027-11-28T11:00:00+01:00\""), exp, 0, "valid");
    at("clock-offset-exp-after", "exp with an offset, one second after", claims(",\"exp\":\"2027-11-28T11:00:00+01:00\""), exp + 1, 0,
        "expired");
    at("clock-nbf-before-exp-check", "both nbf and exp fail: not_yet_valid comes first",
        claims(",\"nbf\":\"2030-01-01T00:00:00Z\",\"exp\":\"2020-01-01T00:00:00Z\""), t0, 0, "not_yet_valid");
    at("clock-leeway-max", "the largest leeway (365 days)", exp_claims, exp + 365 * 86400, 365 * 86400, "valid");
    at("config-leeway-too-large", "a leeway of 365 days + 1 second", exp_claims, exp, 365 * 86400 + 1, "invalid_argument");
    at("config-leeway-negative", "a negative leeway", exp_claims, exp, -1, "invalid_argument");

    // updates_until against the build time: no leeway.
    std::string const uu_claims = claims(",\"updates_until\":\"2027-05-28T10:00:00Z\"");
    int64_t const uu = 1811498400;
    built("build-exactly-at-updates-until", "build time equals updates_until", uu_claims, uu, 0, "valid");
    built("build-after-updates-until", "build time one second after updates_until", uu_claims, uu + 1, 0, "updates_ended");
    built("build-before-updates-until", "build time before updates_until", uu_claims, uu - 86400, 0, "valid");
    built("build-no-build-time", "no build time configured: updates_until is not checked", uu_claims, std::nullopt, 0, "valid");
    built("build-leeway-not-applied", "the leeway does not apply to updates_until", uu_claims, uu + 1, 3600, "updates_ended");
    built("build-no-updates-until", "a build time and a license without updates_until", claims(), uu + 86400 * 1000, 0, "valid");
    built("build-expired-first", "expired and updates ended: expired comes first",
        claims(",\"exp\":\"2027-11-28T10:00:00Z\",\"updates_until\":\"2027-05-28T10:00:00Z\""), uu + 1, 0, "expired", exp + 1);
    built("build-long-after-now", "updates_until in the past of the clock, build time before it", uu_claims, uu, 0, "valid",
        uu + 365 * 86400);
}

void revocation_cases()
{
    std::string const id = "lic_CONFORMANCE00000000001";
    std::string const license = sign(claims());
    auto listed = [&](std::string name, std::string description, Json revocations, std::string status, std::vector<std::string> keys = {}) {
        Case c { std::move(name), std::move(description), license, std::move(status) };
        c.revocations = std::move(revocations);
        if (!keys.empty())
            c.keys = std::move(keys);
        if (c.status == "valid")
            c.claims_message = claims();
        add(std::move(c));
    };
    std::string const revoking = revocation_list({ "lic_other", id });
    std::string const not_revoking = revocation_list({ "lic_other" });
    listed("revocation-listed", "the license is listed", revoking, "revoked");
    listed("revocation-listed-newline", "the list with a final newline, as charter writes it", revoking + "\n", "revoked");
    listed("revocation-not-listed", "another license is listed", not_revoking, "valid");
    listed("revocation-empty-list", "an empty list", revocation_list({}), "valid");
    listed("revocation-case-differs", "the id listed in upper case", revocation_list({ "LIC_CONFORMANCE00000000001" }), "valid");
    listed("revocation-prefix", "a prefix of the id listed", revocation_list({ "lic_CONFORMANCE0000000000" }), "valid");
    listed("revocation-other-product", "a genuine list of acme-basic",
        sign(revocation_message({ id }, "acme-basic"), k1, std::nullopt, "charter-revocations:acme-basic"), "bad_revocation_list");
    listed("revocation-product-claim-differs", "signed for acme-pro, product claim acme-basic",
        sign(revocation_message({ id }, "acme-basic"), k1, std::nullopt, "charter-revocations:acme-pro"), "bad_revocation_list");
    listed("revocation-untrusted-signer", "signed by a key not trusted", revocation_list({ id }, k3), "bad_revocation_list");
    listed("revocation-license-as-list", "a license key given as the list", license, "bad_revocation_list");
    listed("revocation-list-as-license-assertion", "a list signed with the license assertion", sign(revocation_message({ id })),
        "bad_revocation_list");
    listed("revocation-missing-revoked", "no revoked member",
        sign(R"({"iss":"Acme Inc.","iat":"2026-11-28T09:00:00Z","product":"acme-pro"})", k1, std::nullopt, "charter-revocations:acme-pro"),
        "bad_revocation_list");
    listed("revocation-missing-iat", "no iat member",
        sign(R"({"iss":"Acme Inc.","product":"acme-pro","revoked":[]})", k1, std::nullopt, "charter-revocations:acme-pro"),
        "bad_revocation_list");
    listed("revocation-revoked-numbers", "revoked holds a number",
        sign(R"({"iss":"Acme Inc.","iat":"2026-11-28T09:00:00Z","product":"acme-pro","revoked":["lic_x",1]})", k1, std::nullopt,
            "charter-revocations:acme-pro"),
        "bad_revocation_list");
    listed("revocation-duplicate-key", "revoked twice in the object",
        sign(R"({"iss":"Acme Inc.","iat":"2026-11-28T09:00:00Z","product":"acme-pro","revoked":[],"revoked":[")" + id + "\"]}", k1,
            std::nullopt, "charter-revocations:acme-pro"),
        "bad_revocation_list");
    listed("revocation-extra-member", "an unknown member is ignored",
        sign(R"({"iss":"Acme Inc.","iat":"2026-11-28T09:00:00Z","product":"acme-pro","revoked":[")" + id + R"("],"next":"x"})", k1,
            std::nullopt, "charter-revocations:acme-pro"),
        "revoked");
    listed("revocation-garbage", "text that is not a token", "not a revocation list", "bad_revocation_list");
    listed("revocation-empty", "an empty file", "", "bad_revocation_list");
    listed("revocation-only-newlines", "only blank lines", "\n\r\n\n", "bad_revocation_list");
    listed("revocation-altered", "one character of the list changed",
        revoking.substr(0, 20) + (revoking[20] == 'A' ? "B" : "A") + revoking.substr(21), "bad_revocation_list");
    listed("revocation-line-with-space", "a list line with a trailing space", revoking + " ", "bad_revocation_list");

    // Several lists in one file: the first valid one is used.
    listed("revocation-file-second-line-trusted", "line 1 signed by an untrusted key, line 2 by the trusted one listing the license",
        revocation_list({ "lic_other" }, k3) + "\n" + revoking + "\n", "revoked");
    listed("revocation-file-after-rotation", "the file after a rotation to k2, checked by a build trusting only k1",
        revocation_list({ id }, k2) + "\n" + revocation_list({ id }, k1) + "\n", "revoked");
    listed("revocation-file-new-build", "the same file, checked by a build trusting k2 and k1",
        revocation_list({ "lic_other" }, k2) + "\n" + revocation_list({ id }, k1) + "\n", "valid", { k2.paserk_public(), k1.paserk_public() });
    listed("revocation-file-first-valid-wins", "two valid lists: only the first is used", not_revoking + "\n" + revoking + "\n", "valid");
    listed("revocation-file-crlf", "CRLF line ends and blank lines", "\r\n" + revocation_list({ "lic_x" }, k3) + "\r\n\r\n" + revoking + "\r\n",
        "revoked");
    listed("revocation-file-garbage-first", "a line of garbage, then a valid list", "garbage\n" + revoking, "revoked");
    listed("revocation-file-none-valid", "two lines, neither valid for this build",
        revocation_list({ id }, k3) + "\n" + revocation_list({ id }, k2) + "\n", "bad_revocation_list");
    listed("revocation-file-other-product-first", "another product's list, then this product's",
        sign(revocation_message({ "lic_x" }, "acme-basic"), k1, std::nullopt, "charter-revocations:acme-basic") + "\n" + revoking,
        "revoked");
    Json sixteen = Json::array();
    for (int i = 0; i < 16; ++i)
        sixteen.push_back(revoking + "\n");
    listed("revocation-file-16-lists", "16 lists, the most a file may hold", sixteen, "revoked");
    Json seventeen = sixteen;
    seventeen.push_back(not_revoking);
    listed("revocation-file-17-lists", "17 lists: too many", seventeen, "bad_revocation_list");
    listed("revocation-file-too-large", "a file over 4194304 bytes (blank lines after a valid list)",
        Json::array({ revoking + "\n", repeat("\n", CHARTER_MAX_REVOCATION_FILE_SIZE) }), "bad_revocation_list");
    listed("revocation-token-too-large", "one line over 1048576 bytes", Json::array({ "v4.public.", repeat("A", CHARTER_MAX_REVOCATION_LIST_SIZE) }),
        "bad_revocation_list");
    listed("revocation-oversized-then-valid", "an oversized line, then a valid list",
        Json::array({ "v4.public.", repeat("A", CHARTER_MAX_REVOCATION_LIST_SIZE), "\n" + revoking }), "revoked");

    // The order of the checks: time comes before revocation.
    Case expired_and_revoked { "revocation-expired-first", "expired and revoked: expired comes first",
        sign(claims(",\"exp\":\"2026-01-01T00:00:00Z\"")), "expired" };
    expired_and_revoked.revocations = revoking;
    add(expired_and_revoked);
    Case ended_and_revoked { "revocation-updates-ended-first", "updates ended and revoked: updates_ended comes first",
        sign(claims(",\"updates_until\":\"2026-01-01T00:00:00Z\"")), "updates_ended" };
    ended_and_revoked.revocations = revoking;
    ended_and_revoked.build_time = t0;
    add(ended_and_revoked);
    Case invalid_token { "revocation-bad-list-first", "a bad list is refused before the license is looked at", "garbage", "bad_revocation_list" };
    invalid_token.revocations = "garbage";
    add(invalid_token);
}

// --- The startup check: where the key is found, modes, grace, and the customer's message -------

// A place holding a key: an environment variable's value, or a file under the runner's folder.
Json file(std::string const& name, Json content) { return Json { { "name", name }, { "content", std::move(content) } }; }
Json directory(std::string const& name) { return Json { { "name", name }, { "directory", true } }; }

std::vector<Json> startup_cases;

// `env`: the variable's value (null: unset); `files`: in order; the expected outcome last.
void startup(std::string name, std::string description, Json env, Json files, Json options, std::string status, bool valid,
    bool warning, std::string message)
{
    Json item;
    item["name"] = std::move(name);
    item["description"] = std::move(description);
    item["product"] = product;
    item["keys"] = Json::array({ k1.paserk_public() });
    item["now"] = t0;
    item["build_time"] = nullptr;
    item["env"] = std::move(env);
    item["files"] = std::move(files);
    item["mode"] = "enforce";
    item["grace_days"] = 0;
    item["renew_url"] = nullptr;
    item["renewal_warning_days"] = nullptr; // not configured: the default of 14 days
    item["revocation_file"] = nullptr;
    for (auto const& [key, value] : options.items())
        item[key] = value;
    item["status"] = std::move(status);
    item["valid"] = valid;
    item["warning"] = warning;
    item["message"] = std::move(message);
    startup_cases.push_back(std::move(item));
}

void startup_check_cases()
{
    std::string const id = "lic_CONFORMANCE00000000001";
    std::string const the = "the license " + id + " for acme-pro";
    std::string const valid = sign(claims(",\"exp\":\"2027-11-28T10:00:00Z\""));
    std::string const valid_message = the + " is valid until 2027-11-28";
    std::string const place = "CHARTER_CONFORMANCE_LICENSE";
    std::string const where = "set " + place + " or put the key in license.txt or other.txt";
    Json const two_files = Json::array({ file("license.txt", nullptr), file("other.txt", nullptr) });
    int64_t const after_exp = 1827396000 + 3 * 86400; // 2027-12-01T10:00:00Z
    Json const expired_at = { { "now", after_exp } };
    Json const none = Json::object();

    startup("startup-env", "a valid key in the variable", valid, two_files, none, "valid", true, false, valid_message);
    startup("startup-file", "a valid key in the second file", nullptr,
        Json::array({ file("license.txt", nullptr), file("other.txt", valid) }), none, "valid", true, false, valid_message);
    startup("startup-file-whitespace", "a key file with a byte-order mark, CRLF and spaces around the key", nullptr,
        Json::array({ file("license.txt", "\xEF\xBB\xBF  " + valid + " \r\n\r\n") }), none, "valid", true, false, valid_message);
    startup("startup-env-first", "the variable wins over a file holding another key", valid,
        Json::array({ file("license.txt", "garbage") }), none, "valid", true, false, valid_message);
    startup("startup-nothing", "no key in any place", nullptr, two_files, none, "no_license", false, false, "no license key found: " + where);
    startup("startup-env-empty", "the variable is set but empty", "", two_files, none, "no_license", false, false,
        "no license key found: " + place + " is set but is empty; " + where);
    startup("startup-file-directory", "a key file that is a directory", nullptr,
        Json::array({ directory("license.txt"), file("other.txt", nullptr) }), none, "no_license", false, false,
        "no license key found: license.txt could not be read (it is a directory); " + where);
    startup("startup-file-blank", "a key file of whitespace only", nullptr,
        Json::array({ file("license.txt", " \n\t\r\n"), file("other.txt", nullptr) }), none, "no_license", false, false,
        "no license key found: license.txt is empty; " + where);
    startup("startup-file-too-large", "a key file of 16385 bytes", nullptr,
        Json::array({ file("license.txt", Json::array({ repeat("A", 16385) })), file("other.txt", nullptr) }), none, "no_license", false,
        false, "no license key found: license.txt is larger than 16 KiB, so it is not a license key; " + where);
    startup("startup-no-places", "no variable and no file configured", nullptr, Json::array(), { { "no_env", true } }, "no_license", false,
        false, "no license key found: no environment variable or key file is configured to look in (a packaging problem; please "
               "report it to the vendor)");
    startup("startup-warn-no-key", "warn-only mode without a key", nullptr, two_files, { { "mode", "warn" } }, "no_license", true, true,
        "no license key found: " + where);
    std::string const from_vendor = "; get the renewed key from Acme Inc. and put it in " + place;
    startup("startup-expired", "expired, no grace period, no renewal URL", valid, two_files, expired_at, "expired", false, false,
        the + " expired on 2027-11-28" + from_vendor);
    Json grace = { { "now", after_exp }, { "grace_days", 14 }, { "renew_url", "https://acme.example/renew" } };
    startup("startup-expired-in-grace", "expired 3 days ago, 14-day grace period", valid, two_files, grace, "expired", true, true,
        the + " expired on 2027-11-28; it keeps working until 2027-12-12 (grace period of 14 days); renew at https://acme.example/renew");
    Json past_grace = { { "now", after_exp + 20 * 86400 }, { "grace_days", 14 }, { "renew_url", "https://acme.example/renew" } };
    startup("startup-expired-past-grace", "expired 23 days ago, 14-day grace period", valid, two_files, past_grace, "expired", false,
        false, the + " expired on 2027-11-28 and its grace period of 14 days ended on 2027-12-12; renew at https://acme.example/renew");
    startup("startup-expired-one-day-grace", "a grace period of one day, inside it", valid, two_files,
        { { "now", 1827396000 + 3600 }, { "grace_days", 1 } }, "expired", true, true,
        the + " expired on 2027-11-28; it keeps working until 2027-11-29 (grace period of 1 day)" + from_vendor);
    startup("startup-warn-expired", "warn-only mode, expired", valid, two_files, { { "now", after_exp }, { "mode", "warn" } }, "expired",
        true, true, the + " expired on 2027-11-28" + from_vendor);

    // The renewal warning: from N days (default 14) before exp, a valid license warns that it ends.
    int64_t const exp = 1827396000; // 2027-11-28T10:00:00Z
    std::string const renew_at = "; renew at https://acme.example/renew";
    startup("startup-ending-default-before", "14 days and 1 second before exp, the default period: no warning", valid, two_files,
        { { "now", exp - 14 * 86400 - 1 } }, "valid", true, false, valid_message);
    startup("startup-ending-default", "exactly 14 days before exp, the default period: valid, with a warning", valid, two_files,
        { { "now", exp - 14 * 86400 } }, "valid", true, true, the + " ends on 2027-11-28 (in 14 days)" + from_vendor);
    startup("startup-ending-configured-before", "30 days and 1 second before exp, a 30-day period: no warning", valid, two_files,
        { { "now", exp - 30 * 86400 - 1 }, { "renewal_warning_days", 30 }, { "renew_url", "https://acme.example/renew" } }, "valid",
        true, false, valid_message);
    startup("startup-ending-configured", "exactly 30 days before exp, a 30-day period, with a renewal URL", valid, two_files,
        { { "now", exp - 30 * 86400 }, { "renewal_warning_days", 30 }, { "renew_url", "https://acme.example/renew" } }, "valid", true,
        true, the + " ends on 2027-11-28 (in 30 days)" + renew_at);
    startup("startup-ending-whole-days", "10 days minus 1 second before exp: 9 whole days left", valid, two_files,
        { { "now", exp - 10 * 86400 + 1 } }, "valid", true, true, the + " ends on 2027-11-28 (in 9 days)" + from_vendor);
    startup("startup-ending-one-day", "exactly 1 day before exp", valid, two_files, { { "now", exp - 86400 } }, "valid", true, true,
        the + " ends on 2027-11-28 (in 1 day)" + from_vendor);
    startup("startup-ending-less-than-a-day", "1 day minus 1 second before exp", valid, two_files, { { "now", exp - 86400 + 1 } },
        "valid", true, true, the + " ends on 2027-11-28 (in less than a day)" + from_vendor);
    startup("startup-ending-at-exp", "at exp: still valid, with the warning", valid, two_files,
        { { "now", exp }, { "renew_url", "https://acme.example/renew" } }, "valid", true, true,
        the + " ends on 2027-11-28 (in less than a day)" + renew_at);
    startup("startup-ending-after-exp", "1 second after exp: expired, the refusal says where the renewed key comes from", valid,
        two_files, { { "now", exp + 1 }, { "renew_url", "https://acme.example/renew" } }, "expired", false, false,
        the + " expired on 2027-11-28" + renew_at);
    startup("startup-ending-off", "a period of 0 days: no warning, even at exp", valid, two_files,
        { { "now", exp }, { "renewal_warning_days", 0 } }, "valid", true, false, valid_message);
    startup("startup-ending-one-day-period", "a 1-day period, 1 day and 1 second before exp: no warning", valid, two_files,
        { { "now", exp - 86400 - 1 }, { "renewal_warning_days", 1 } }, "valid", true, false, valid_message);
    startup("startup-ending-in-file", "the key in a file, no renewal URL: the message names the file", nullptr,
        Json::array({ file("license.txt", nullptr), file("other.txt", valid) }), { { "now", exp - 3 * 86400 } }, "valid", true, true,
        the + " ends on 2027-11-28 (in 3 days); get the renewed key from Acme Inc. and put it in other.txt");
    startup("startup-ending-perpetual", "a perpetual license never warns", sign(claims()), two_files,
        { { "now", exp }, { "renewal_warning_days", 3650 } }, "valid", true, false, the + " is valid");
    startup("startup-ending-revocation-file-missing", "ending soon and the revocation file missing: both in the message", valid,
        two_files, { { "now", exp - 86400 }, { "revocation_file", file("revoked.txt", nullptr) } }, "valid", true, true,
        the + " ends on 2027-11-28 (in 1 day)" + from_vendor + "; the revocation list revoked.txt was not found, so revocations were not "
                                                              "checked");
    std::string basic_claims = R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","iat":"2026-11-28T10:00:00Z","product":"acme-basic"})";
    startup("startup-other-product", "a genuine key of acme-basic", sign(basic_claims, k1, std::nullopt, "acme-basic"), two_files, none,
        "wrong_product", false, false, "the license key in " + place + " is for another product (acme-basic), not acme-pro");
    startup("startup-other-product-unknown-key", "a key of acme-basic signed by an unknown key",
        sign(basic_claims, k3, std::nullopt, "acme-basic"), two_files, none, "unknown_key", false, false,
        "the license key in " + place + " appears to be for another product (acme-basic), not acme-pro");
    std::string incomplete_basic_claims = R"({"iss":"Acme Inc.","sub":"cus_1","jti":"lic_1","product":"acme-basic"})";
    startup("startup-other-product-unknown-key-incomplete", "a key naming acme-basic, without iat, signed by an unknown key: "
        "only complete claims are worded as another product's",
        sign(incomplete_basic_claims, k3, std::nullopt, "acme-basic"), two_files, none, "unknown_key", false, false,
        "the license key in " + place + " was signed by a key this release of acme-pro does not know; update acme-pro or ask the "
                                        "vendor for a new key");
    startup("startup-unknown-key", "signed by a key this build does not know", sign(claims(), k3), two_files, none, "unknown_key", false,
        false, "the license key in " + place + " was signed by a key this release of acme-pro does not know; update acme-pro or ask the "
                                                  "vendor for a new key");
    startup("startup-altered", "not a license key", nullptr, Json::array({ file("license.txt", "v4.public.AAAA") }), none, "malformed",
        false, false, "the license key in license.txt was altered or is not a license key for acme-pro; copy the key again exactly as issued");
    startup("startup-not-yet-valid", "nbf in the future", sign(claims(",\"nbf\":\"2027-01-01T00:00:00Z\"")), two_files, none,
        "not_yet_valid", false, false, the + " starts on 2027-01-01; if that date has passed, check this computer's clock");
    startup("startup-updates-ended", "a build after updates_until", sign(claims(",\"updates_until\":\"2027-05-28T10:00:00Z\"")),
        two_files, { { "build_time", 1811498400 + 4 * 86400 }, { "renew_url", "https://acme.example/renew" } }, "updates_ended", false,
        false, the + " covers releases up to 2027-05-28, and this release is from 2027-06-01; use an earlier release or renew at "
                     "https://acme.example/renew");
    startup("startup-revoked", "listed in the revocation file", valid, two_files,
        { { "revocation_file", file("revoked.txt", revocation_list({ id }) + "\n") } }, "revoked", false, false,
        the + " has been revoked; contact Acme Inc. for a new key");
    startup("startup-revocation-file-missing", "the revocation file is missing: valid, with a warning", valid, two_files,
        { { "revocation_file", file("revoked.txt", nullptr) } }, "valid", true, true,
        valid_message + "; the revocation list revoked.txt was not found, so revocations were not checked");
    startup("startup-revocation-file-corrupt", "a corrupt revocation file: valid, with a warning", valid, two_files,
        { { "revocation_file", file("revoked.txt", "garbage\n") } }, "valid", true, true,
        valid_message + "; the revocation list revoked.txt is not a valid revocation list for acme-pro, so revocations were not checked");
    startup("startup-revocation-file-empty", "an empty revocation file", valid, two_files,
        { { "revocation_file", file("revoked.txt", "\n") } }, "valid", true, true,
        valid_message + "; the revocation list revoked.txt is empty, so revocations were not checked");
    startup("startup-revocation-file-after-rotation", "a file after a rotation: the old key's list is used", valid, two_files,
        { { "revocation_file", file("revoked.txt", revocation_list({ id }, k2) + "\n" + revocation_list({ id }) + "\n") } }, "revoked",
        false, false, the + " has been revoked; contact Acme Inc. for a new key");
    startup("startup-no-keys", "the build trusts no key", valid, two_files, { { "keys", Json::array() } }, "no_keys", false, false,
        "acme-pro cannot check license keys: no public key is configured to verify license keys with (a packaging problem; please "
        "report it to the vendor)");
}

// --- Activation tokens (docs/format.md "The activation token") ------------------------------
// Each case: a token, this machine's fingerprint, the clock and the lease leeway; the verifier
// runs verify_activation for `product` with `keys`.

std::vector<Json> activation_cases;

std::string sha256_hex(std::string const& bytes)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<unsigned char const*>(bytes.data()), bytes.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

constexpr char const* machine = "d41d8cd98f00b204e9800998ecf8427e"; // an /etc/machine-id
constexpr int64_t lease_end = t0 + 900;                              // 2026-11-28T10:15:00Z

// The claims of an activation as the server writes them; `exp` absent when lease_end is nullopt.
Json activation_claims(std::optional<int64_t> end = lease_end, std::string const& for_product = product,
    std::string const& fingerprint = machine)
{
    Json claims = { { "iss", "Acme Inc." }, { "jti", "act_CONFORMANCE0000000000001" }, { "license", "lic_CONFORMANCE00000000001" },
        { "product", for_product }, { "fingerprint", sha256_hex(fingerprint) }, { "seat", 3 }, { "iat", "2026-11-28T10:00:00Z" } };
    if (end)
        claims["exp"] = format::format_rfc3339(*end);
    return claims;
}

std::string sign_activation(std::string const& message, keygen::SigningKey const& key = k1, std::string const& for_product = product)
{
    return sign(message, key, std::nullopt, std::string("charter-activation:") + for_product);
}

void activation(std::string name, std::string description, Json token, std::string status, Json options = Json::object(),
    std::optional<std::string> valid_message = std::nullopt)
{
    for (auto const& other : activation_cases) {
        if (other["name"] == name) {
            std::cerr << "make_conformance: two activation cases named " << name << "\n";
            std::exit(1);
        }
    }
    if (options.is_null())
        options = Json::object();
    Json item;
    item["name"] = std::move(name);
    item["description"] = std::move(description);
    item["product"] = options.value("product", std::string(product));
    item["keys"] = options.value("keys", Json::array({ k1.paserk_public() }));
    item["token"] = std::move(token);
    item["fingerprint"] = options.value("fingerprint", Json(machine));
    item["now"] = options.value("now", t0 + 60);
    item["leeway"] = options.value("leeway", int64_t(0));
    item["status"] = status;
    item["claims"] = nullptr;
    if (status == "valid") {
        if (!valid_message) {
            std::cerr << "make_conformance: valid activation case " << item["name"] << " without its claims\n";
            std::exit(1);
        }
        item["claims"] = Json::parse(*valid_message);
    }
    activation_cases.push_back(std::move(item));
}

void activation_token_cases()
{
    std::string const message = activation_claims().dump();
    std::string const valid = sign_activation(message);
    activation("activation-valid", "an activation token exactly as the server issues it", valid, "valid", {}, message);
    activation("activation-at-lease-end", "now = exp: still valid", valid, "valid", { { "now", lease_end } }, message);
    activation("activation-after-lease-end", "now = exp + 1 s: the lease ended", valid, "lease_expired", { { "now", lease_end + 1 } });
    activation("activation-leeway-at", "now = exp + leeway (30 s): valid", valid, "valid", { { "now", lease_end + 30 }, { "leeway", 30 } },
        message);
    activation("activation-leeway-after", "now = exp + leeway + 1 s: the lease ended", valid, "lease_expired",
        { { "now", lease_end + 31 }, { "leeway", 30 } });
    activation("activation-leeway-negative", "a negative leeway", valid, "invalid_argument", { { "leeway", -1 } });
    activation("activation-leeway-too-large", "a leeway over a year", valid, "invalid_argument", { { "leeway", 86400 * 365 + 1 } });
    std::string const node_locked = activation_claims(std::nullopt).dump();
    activation("activation-node-locked", "no exp: node-locked, valid a century later", sign_activation(node_locked), "valid",
        { { "now", t0 + int64_t(100) * 365 * 86400 } }, node_locked);

    activation("activation-other-machine", "another machine's fingerprint", valid, "wrong_machine", { { "fingerprint", "another-machine" } });
    activation("activation-other-machine-case", "the fingerprint in upper case: other bytes", valid, "wrong_machine",
        { { "fingerprint", "D41D8CD98F00B204E9800998ECF8427E" } });
    activation("activation-other-machine-newline", "the fingerprint with a trailing newline: other bytes", valid, "wrong_machine",
        { { "fingerprint", std::string(machine) + "\n" } });
    activation("activation-other-machine-after-lease-end", "another machine and an ended lease: the machine is reported first", valid,
        "wrong_machine", { { "fingerprint", "another-machine" }, { "now", lease_end + 1 } });
    activation("activation-fingerprint-empty", "an empty fingerprint", valid, "invalid_argument", { { "fingerprint", "" } });
    activation("activation-fingerprint-257", "a fingerprint of 257 bytes", valid, "invalid_argument",
        { { "fingerprint", std::string(257, 'f') } });
    std::string const long_machine = std::string(256, 'f');
    std::string const long_message = activation_claims(lease_end, product, long_machine).dump();
    activation("activation-fingerprint-256", "a fingerprint of 256 bytes", sign_activation(long_message), "valid",
        { { "fingerprint", long_machine } }, long_message);
    std::string const utf8_machine = "h\xC3\xB4te-7";
    std::string const utf8_message = activation_claims(lease_end, product, utf8_machine).dump();
    activation("activation-fingerprint-utf8", "a fingerprint with a non-ASCII character, hashed as UTF-8", sign_activation(utf8_message),
        "valid", { { "fingerprint", utf8_machine } }, utf8_message);

    std::string const basic = activation_claims(lease_end, "acme-basic").dump();
    activation("activation-other-product", "a genuine activation token of acme-basic", sign_activation(basic, k1, "acme-basic"),
        "wrong_product");
    activation("activation-other-product-claimed", "signed for acme-pro, its product claim acme-basic", sign_activation(basic),
        "wrong_product");
    activation("activation-relabelled", "signed for acme-basic, its product claim edited to acme-pro", sign_activation(message, k1, "acme-basic"),
        "bad_signature");
    activation("activation-license-key", "a license key is not an activation token", sign(claims()), "bad_signature");
    activation("activation-revocation-list", "a revocation list is not an activation token", revocation_list({}), "bad_signature");
    std::string altered = valid;
    altered[20] = altered[20] == 'A' ? 'B' : 'A';
    activation("activation-altered", "one character of the payload changed", altered, "bad_signature");
    activation("activation-unknown-kid", "signed by a key the verifier does not trust", sign_activation(message, k3), "unknown_key");
    activation("activation-second-key", "signed by the second trusted key", sign_activation(message, k2), "valid",
        { { "keys", Json::array({ k1.paserk_public(), k2.paserk_public() }) } }, message);
    activation("activation-no-footer", "no footer: no key is tried",
        assemble(message, raw_signature(k1, format::pae({ "v4.public.", message, "", "charter-activation:acme-pro" })), std::nullopt),
        "bad_footer");
    activation("activation-no-keys", "the verifier trusts no key", valid, "no_keys", { { "keys", Json::array() } });
    activation("activation-empty", "the empty string", "", "malformed");
    activation("activation-too-large", "16385 bytes", Json::array({ "v4.public.", repeat("A", 16385 - 10) }), "too_large");

    for (char const* claim : { "iss", "jti", "license", "product", "fingerprint", "seat", "iat" }) {
        Json without = activation_claims();
        without.erase(claim);
        activation(std::string("activation-missing-") + claim, std::string("no \"") + claim + "\" claim", sign_activation(without.dump()),
            "missing_claim");
    }
    struct Mistyped {
        char const* name;
        char const* claim;
        Json value;
    };
    Mistyped const mistyped[] = {
        { "seat-string", "seat", "3" },
        { "seat-zero", "seat", 0 },
        { "seat-negative", "seat", -1 },
        { "seat-fraction", "seat", 1.5 },
        { "seat-boolean", "seat", true },
        { "seat-too-large", "seat", Json::parse("9223372036854775808") },
        { "jti-number", "jti", 12 },
        { "license-null", "license", nullptr },
        { "iss-array", "iss", Json::array({ "Acme Inc." }) },
        { "fingerprint-upper-case", "fingerprint", "D41D8CD98F00B204E9800998ECF8427ED41D8CD98F00B204E9800998ECF8427E" },
        { "fingerprint-63", "fingerprint", std::string(63, 'a') },
        { "fingerprint-65", "fingerprint", std::string(65, 'a') },
        { "fingerprint-raw", "fingerprint", machine },
        { "fingerprint-number", "fingerprint", 1 },
        { "exp-number", "exp", 1795860900 },
        { "exp-not-rfc3339", "exp", "2026-11-28 10:15:00" },
        { "iat-boolean", "iat", false },
    };
    for (auto const& m : mistyped) {
        Json claims = activation_claims();
        claims[m.claim] = m.value;
        activation(std::string("activation-wrong-type-") + m.name, std::string("\"") + m.claim + "\" is " + m.value.dump(),
            sign_activation(claims.dump()), "wrong_claim_type");
    }
    // The order of the checks: the first missing or mistyped claim in the table's order wins.
    Json both = activation_claims();
    both.erase("iat");
    both["seat"] = "3";
    activation("activation-order-seat-before-iat", "\"seat\" mistyped and \"iat\" missing: seat is checked first",
        sign_activation(both.dump()), "wrong_claim_type");
    Json both2 = activation_claims();
    both2.erase("jti");
    both2["fingerprint"] = 5;
    activation("activation-order-jti-before-fingerprint", "\"jti\" missing and \"fingerprint\" mistyped: jti is checked first",
        sign_activation(both2.dump()), "missing_claim");
    Json mistyped_other_machine = activation_claims(lease_end, product, "another-machine");
    mistyped_other_machine["exp"] = 5;
    activation("activation-order-claims-before-machine", "\"exp\" mistyped in another machine's token: the claims first",
        sign_activation(mistyped_other_machine.dump()), "wrong_claim_type");

    activation("activation-not-object", "the message is an array", sign_activation("[1,2,3]"), "bad_claims");
    std::string duplicate = message.substr(0, message.size() - 1) + ",\"seat\":4}";
    activation("activation-duplicate-claim", "\"seat\" twice", sign_activation(duplicate), "bad_claims");
    Json extra = activation_claims();
    extra["label"] = "build-7";
    extra["meta"] = { { "k", "v" } };
    activation("activation-extra-claims", "unknown claims are ignored", sign_activation(extra.dump()), "valid", {}, extra.dump());
}

}

int main()
{
    if (sodium_init() < 0)
        return 1;
    layout_cases();
    footer_cases();
    signature_cases();
    json_cases();
    claim_cases();
    time_cases();
    revocation_cases();
    startup_check_cases();
    activation_token_cases();

    Json suite;
    suite["about"] = "Charter's verifier conformance suite: every verifier must give each case the expected status "
                     "(and each startup case the expected outcome and message) "
                     "(docs/format.md; tests/conformance/README.md explains the fields). Generated by "
                     "tests/conformance/make_conformance.cpp; do not edit by hand.";
    suite["version"] = 1;
    Json list = Json::array();
    for (auto const& c : cases) {
        Json item;
        item["name"] = c.name;
        item["description"] = c.description;
        item["product"] = c.product_id;
        item["keys"] = c.keys;
        item["token"] = c.token;
        item["now"] = c.now;
        item["leeway"] = c.leeway;
        item["build_time"] = c.build_time ? Json(*c.build_time) : Json(nullptr);
        item["revocations"] = c.revocations ? *c.revocations : Json(nullptr);
        item["status"] = c.status;
        if (c.status == "valid") {
            if (!c.claims_message) {
                std::cerr << "make_conformance: valid case " << c.name << " without its claims\n";
                return 1;
            }
            // Parsed as a JSON value: verifiers compare values, not bytes.
            item["claims"] = Json::parse(c.claims_message->starts_with("\xEF\xBB\xBF") ? c.claims_message->substr(3) : *c.claims_message);
        } else {
            item["claims"] = nullptr;
        }
        list.push_back(std::move(item));
    }
    suite["cases"] = std::move(list);
    // One case per line: diffs stay readable and the file small.
    std::cout << "{\n\"about\": " << suite["about"].dump() << ",\n\"version\": 1,\n\"cases\": [\n";
    for (size_t i = 0; i < suite["cases"].size(); ++i)
        std::cout << suite["cases"][i].dump(-1, ' ', true) << (i + 1 < suite["cases"].size() ? ",\n" : "\n");
    std::cout << "],\n\"startup_cases\": [\n";
    for (size_t i = 0; i < startup_cases.size(); ++i)
        std::cout << startup_cases[i].dump(-1, ' ', true) << (i + 1 < startup_cases.size() ? ",\n" : "\n");
    std::cout << "],\n\"activation_cases\": [\n";
    for (size_t i = 0; i < activation_cases.size(); ++i)
        std::cout << activation_cases[i].dump(-1, ' ', true) << (i + 1 < activation_cases.size() ? ",\n" : "\n");
    std::cout << "]\n}\n";
    return 0;
}
