// charter_verify, the public entry point, with a verifier that trusts one fixed key, has a
// leeway, a build time and a revocation list. Random bytes almost never carry a valid Ed25519
// signature, so most modes sign the fuzz bytes first and so reach the claims parser and the
// time and revocation checks behind the signature.
//
// Input: byte 0 picks the mode (bits 0-2) and the clock (bits 3-5); the rest is the payload.
//   0, 1  the payload is a token, verified as it is
//   2     the payload is a message, signed with the trusted key and a kid footer
//   3     the same without a footer (the verifier tries every trusted key)
//   4     signed with the trusted key for another product: must be refused (implicit assertion)
//   5     signed with an untrusted key: must be refused as an unknown kid
//   6     signed, then one character changed (position and value from bytes 1-3): must be refused
//   7     the payload is a token, verified with a detail buffer of 0-31 bytes (byte 1)

#include "fuzz_support.hpp"

#include <cstring>
#include <memory>
#include <limits>

using namespace charter;
using namespace charter::fuzz;

namespace {

constexpr int64_t clocks[8] = {
    t0,
    t0 - 400 * 86400,
    t0 + 3650 * 86400,
    0,
    std::numeric_limits<int64_t>::min(),
    std::numeric_limits<int64_t>::max(),
    -62167219200, // 0000-01-01T00:00:00Z
    253402300799, // 9999-12-31T23:59:59Z
};
constexpr int64_t leeway = 300;

charter_verifier* make_verifier()
{
    auto* verifier = charter_verifier_new(product);
    FUZZ_CHECK(verifier);
    FUZZ_CHECK(charter_verifier_add_key(verifier, trusted_key().paserk_public().c_str()) == CHARTER_OK);
    FUZZ_CHECK(charter_verifier_set_leeway(verifier, leeway) == CHARTER_OK);
    FUZZ_CHECK(charter_verifier_set_build_time(verifier, t0) == CHARTER_OK);
    std::string list = keygen::sign_revocation_list(trusted_key(), "Acme Inc.", product, t0, { "lic_revoked", "lic_1" });
    FUZZ_CHECK(charter_verifier_set_revocation_list(verifier, list.data(), list.size(), nullptr, 0) == CHARTER_OK);
    return verifier;
}

charter_verifier const& verifier()
{
    static charter_verifier const* const instance = make_verifier();
    return *instance;
}

// What a license handed out must satisfy, read back through every accessor.
void check_license(charter_license const* license, int status, int64_t now, std::string_view signed_message)
{
    FUZZ_CHECK(license);
    FUZZ_CHECK(std::strcmp(charter_license_product(license), product) == 0);
    FUZZ_CHECK(trusted_key().kid() == charter_license_kid(license));
    FUZZ_CHECK(charter_license_id(license) && charter_license_customer(license) && charter_license_issuer(license));
    if (!signed_message.empty())
        FUZZ_CHECK(signed_message == charter_license_claims_json(license));
    (void)charter_license_name(license);
    (void)charter_license_issued_at(license);
    int64_t seats = -1;
    if (charter_license_seats(license, &seats))
        FUZZ_CHECK(seats >= 0);
    size_t count = charter_license_entitlement_count(license);
    for (size_t i = 0; i < count; ++i) {
        char const* entitlement = charter_license_entitlement(license, i);
        FUZZ_CHECK(entitlement && charter_license_has_entitlement(license, entitlement) == 1);
    }
    FUZZ_CHECK(charter_license_entitlement(license, count) == nullptr);
    if (status != CHARTER_OK)
        return;
    int64_t time = 0;
    if (charter_license_not_before(license, &time))
        FUZZ_CHECK(now >= time - leeway);
    if (charter_license_expires_at(license, &time))
        FUZZ_CHECK(now <= time + leeway);
    if (charter_license_updates_until(license, &time))
        FUZZ_CHECK(t0 <= time);
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    Input input(data, size);
    uint8_t control = input.take_byte();
    unsigned mode = control & 7;
    int64_t now = clocks[(control >> 3) & 7];
    size_t detail_size = 256;
    size_t change_at = 0;
    char change_to = 0;
    if (mode == 6) {
        // Two statements: the operands of | are not sequenced, so one expression could read
        // the bytes in either order.
        change_at = size_t(input.take_byte()) << 8;
        change_at |= input.take_byte();
        change_to = static_cast<char>(input.take_byte());
    } else if (mode == 7) {
        detail_size = input.take_byte() % 32;
    }
    std::string_view payload = input.rest();

    std::string token;
    std::string_view signed_message;
    switch (mode) {
    case 0:
    case 1:
    case 7:
        token = payload;
        break;
    case 2:
    case 6:
        token = sign_message(trusted_key(), payload, product);
        signed_message = payload;
        break;
    case 3:
        token = keygen::sign_v4_public(trusted_key(), payload, "", product);
        signed_message = payload;
        break;
    case 4:
        token = sign_message(trusted_key(), payload, "acme-basic");
        break;
    case 5:
        token = sign_message(untrusted_key(), payload, product);
        break;
    }
    bool changed = false;
    if (mode == 6 && !token.empty()) {
        change_at %= token.size();
        changed = token[change_at] != change_to;
        token[change_at] = change_to;
    }

    // Exact-size heap copies, so that ASan catches a read or write one byte out.
    auto token_copy = std::make_unique<char[]>(token.size());
    std::memcpy(token_copy.get(), token.data(), token.size());
    auto detail = std::make_unique<char[]>(detail_size);
    charter_license* license = nullptr;
    int status = charter_verify(&verifier(), token_copy.get(), token.size(), now, &license, detail.get(), detail_size);

    FUZZ_CHECK(status <= CHARTER_OK && status > CHARTER_E_INTERNAL);
    FUZZ_CHECK(status != CHARTER_E_INVALID_ARGUMENT && status != CHARTER_E_NO_MEMORY && status != CHARTER_E_NO_KEYS);
    FUZZ_CHECK((license != nullptr) == status_has_license(status));
    if (detail_size > 0)
        FUZZ_CHECK(std::memchr(detail.get(), '\0', detail_size) != nullptr);
    if (detail_size > 1 && status != CHARTER_OK)
        FUZZ_CHECK(detail[0] != '\0');

    bool too_large = token.size() > CHARTER_MAX_TOKEN_SIZE;
    if (too_large)
        FUZZ_CHECK(status == CHARTER_E_TOO_LARGE);
    if (!too_large && (mode == 2 || mode == 3)) {
        // Validly signed: whatever is wrong must be in the claims or the times.
        FUZZ_CHECK(status == CHARTER_OK || status <= CHARTER_E_BAD_CLAIMS);
        FUZZ_CHECK(status != CHARTER_E_BAD_KEY && status != CHARTER_E_BAD_REVOCATION_LIST);
    }
    if (!too_large && mode == 4)
        FUZZ_CHECK(status == CHARTER_E_BAD_SIGNATURE);
    if (!too_large && mode == 5)
        FUZZ_CHECK(status == CHARTER_E_UNKNOWN_KEY);
    if (mode == 6 && changed)
        FUZZ_CHECK(!status_has_license(status));

    if (license)
        check_license(license, status, now, signed_message);
    charter_license_free(license);
    return 0;
}
