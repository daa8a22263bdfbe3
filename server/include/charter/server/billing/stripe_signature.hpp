#pragma once
// The Stripe-Signature header, checked as Stripe's own libraries check it: `t=<unix seconds>`
// and one or more `v1=<hex>` (other schemes ignored); the expected signature is
// HMAC-SHA256(secret, "<t>.<raw body>") over the bytes received, before any parsing; any v1 may
// match any configured secret (several during a rotation), compared in constant time; then the
// timestamp may be at most `tolerance` seconds old.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace charter::server {

struct SignatureVerdict {
    bool ok { false };
    std::string code;    // "signature_missing", "signature_malformed", "signature_mismatch", "timestamp_outside_tolerance"
    std::string message; // for the 400 answer; never contains a secret or the expected signature
};

class StripeSignature {
public:
    StripeSignature(std::vector<std::string> secrets, int64_t tolerance_seconds)
        : m_secrets(std::move(secrets))
        , m_tolerance(tolerance_seconds)
    {
    }

    bool configured() const { return !m_secrets.empty(); }
    SignatureVerdict check(std::string_view header, std::string_view body, int64_t now) const;

private:
    std::vector<std::string> m_secrets;
    int64_t m_tolerance;
};

}
