#include "charter/server/billing/stripe_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <charconv>
#include <optional>

namespace charter::server {

namespace {

// "a1b2…" (64 hex digits, either case) → 32 bytes; false when it is not.
bool decode_hex(std::string_view hex, unsigned char (&out)[32])
{
    if (hex.size() != 64)
        return false;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < 32; ++i) {
        int high = digit(hex[2 * i]);
        int low = digit(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        out[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return true;
}

SignatureVerdict refuse(char const* code, std::string message)
{
    return SignatureVerdict { false, code, std::move(message) };
}

}

SignatureVerdict StripeSignature::check(std::string_view header, std::string_view body, int64_t now) const
{
    if (header.empty())
        return refuse("signature_missing", "the Stripe-Signature header is missing; only Stripe's signed events are accepted here");
    std::optional<int64_t> timestamp;
    std::string_view timestamp_text;
    std::vector<std::string_view> signatures;
    size_t start = 0;
    while (start <= header.size()) {
        auto end = header.find(',', start);
        if (end == std::string_view::npos)
            end = header.size();
        auto part = header.substr(start, end - start);
        while (!part.empty() && part.front() == ' ')
            part.remove_prefix(1);
        auto equals = part.find('=');
        if (equals != std::string_view::npos) {
            auto key = part.substr(0, equals);
            auto value = part.substr(equals + 1);
            if (key == "t") {
                int64_t parsed = 0;
                auto [ptr, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
                if (error == std::errc() && ptr == value.data() + value.size() && !value.empty()) {
                    timestamp = parsed;
                    timestamp_text = value;
                }
            } else if (key == "v1") {
                signatures.push_back(value);
            }
        }
        start = end + 1;
    }
    if (!timestamp || signatures.empty())
        return refuse("signature_malformed",
            "the Stripe-Signature header has no timestamp (t=) or no v1 signature; it must look like t=1700000000,v1=<hex>");

    // The signed payload, "<t>.<body>", exactly as received.
    std::string payload;
    payload.reserve(timestamp_text.size() + 1 + body.size());
    payload.append(timestamp_text).append(1, '.').append(body);
    bool matched = false;
    for (auto const& secret : m_secrets) {
        unsigned char expected[32];
        unsigned int length = 0;
        if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<unsigned char const*>(payload.data()),
                payload.size(), expected, &length)
            || length != sizeof expected)
            continue;
        for (auto const& signature : signatures) {
            unsigned char given[32];
            // Every signature is compared, matched or not: the time taken says nothing of which.
            if (decode_hex(signature, given) && CRYPTO_memcmp(given, expected, sizeof expected) == 0)
                matched = true;
        }
        OPENSSL_cleanse(expected, sizeof expected);
    }
    if (!matched)
        return refuse("signature_mismatch", "no signature in the Stripe-Signature header matches this body with the endpoint's "
                                            "signing secret; check CHARTER_STRIPE_WEBHOOK_SECRET against the endpoint in Stripe's dashboard");
    if (*timestamp < now - m_tolerance)
        return refuse("timestamp_outside_tolerance", "the event was signed at " + std::to_string(*timestamp) + ", more than "
                + std::to_string(m_tolerance) + " seconds before now (" + std::to_string(now)
                + "); a replayed old delivery is refused (check the server's clock)");
    return SignatureVerdict { true, {}, {} };
}

}
