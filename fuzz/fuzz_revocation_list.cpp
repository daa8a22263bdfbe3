// charter_verifier_set_revocation_list: a fresh verifier with a first list installed (it
// revokes lic_baseline) is handed a second one made from the fuzz bytes. A list that is
// refused must leave the first in force; a list that is accepted must revoke exactly what it
// lists, checked by verifying licenses signed for some of its ids.
//
// Input: byte 0 picks the mode (bits 0-1); the rest is the payload.
//   0  the payload is a token, installed as it is
//   1  the payload is a message, signed as a revocation list of acme-pro by the trusted key
//   2  signed with the license assertion ("acme-pro"): a license is never a revocation list
//   3  signed as the revocation list of another product: must be refused

#include "charter/format/paseto.hpp"
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <memory>

using namespace charter;
using namespace charter::fuzz;

namespace {

std::string const& baseline_list()
{
    static std::string const list = keygen::sign_revocation_list(trusted_key(), "Acme Inc.", product, t0, { "lic_baseline" });
    return list;
}

std::string license_for(std::string const& license_id)
{
    nlohmann::json claims = {
        { "iss", "Acme Inc." },
        { "sub", "cus_1" },
        { "jti", license_id },
        { "iat", "2026-11-28T10:00:00Z" },
        { "product", product },
    };
    return sign_message(trusted_key(), claims.dump(), product);
}

int verify_license(charter_verifier const* verifier, std::string const& license_id)
{
    std::string token = license_for(license_id);
    charter_license* license = nullptr;
    int status = charter_verify(verifier, token.data(), token.size(), t0, &license, nullptr, 0);
    charter_license_free(license);
    return status;
}

struct VerifierDeleter {
    void operator()(charter_verifier* verifier) const { charter_verifier_free(verifier); }
};

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    Input input(data, size);
    unsigned mode = input.take_byte() & 3;
    std::string_view payload = input.rest();

    std::string token;
    switch (mode) {
    case 0: token = payload; break;
    case 1: token = sign_message(trusted_key(), payload, "charter-revocations:acme-pro"); break;
    case 2: token = sign_message(trusted_key(), payload, product); break;
    case 3: token = sign_message(trusted_key(), payload, "charter-revocations:acme-basic"); break;
    }

    std::unique_ptr<charter_verifier, VerifierDeleter> verifier(charter_verifier_new(product));
    FUZZ_CHECK(verifier);
    FUZZ_CHECK(charter_verifier_add_key(verifier.get(), trusted_key().paserk_public().c_str()) == CHARTER_OK);
    auto const& baseline = baseline_list();
    FUZZ_CHECK(charter_verifier_set_revocation_list(verifier.get(), baseline.data(), baseline.size(), nullptr, 0) == CHARTER_OK);

    auto token_copy = std::make_unique<char[]>(token.size());
    std::memcpy(token_copy.get(), token.data(), token.size());
    char detail[128];
    int status = charter_verifier_set_revocation_list(verifier.get(), token_copy.get(), token.size(), detail, sizeof detail);
    FUZZ_CHECK(status == CHARTER_OK || status == CHARTER_E_BAD_REVOCATION_LIST);
    FUZZ_CHECK(std::memchr(detail, '\0', sizeof detail) != nullptr);
    if (mode >= 2)
        FUZZ_CHECK(status == CHARTER_E_BAD_REVOCATION_LIST);

    if (status != CHARTER_OK) {
        FUZZ_CHECK(std::string_view(detail).starts_with("revocation list rejected: "));
        FUZZ_CHECK(verify_license(verifier.get(), "lic_baseline") == CHARTER_E_REVOKED);
        return 0;
    }

    // Accepted: the signed message is a valid list for acme-pro, and it alone is in force.
    format::DecodedToken decoded;
    std::string message;
    FUZZ_CHECK(format::decode_v4_public(token, decoded, message, CHARTER_MAX_REVOCATION_LIST_SIZE) == CHARTER_OK);
    format::RevocationList list;
    FUZZ_CHECK(format::parse_revocation_list(decoded.message, list, message) == CHARTER_OK);
    FUZZ_CHECK(list.product == product);
    bool lists_baseline = std::binary_search(list.revoked.begin(), list.revoked.end(), "lic_baseline");
    FUZZ_CHECK((verify_license(verifier.get(), "lic_baseline") == CHARTER_E_REVOKED) == lists_baseline);
    for (size_t i = 0; i < list.revoked.size() && i < 4; ++i)
        FUZZ_CHECK(verify_license(verifier.get(), list.revoked[i]) == CHARTER_E_REVOKED);
    return 0;
}
