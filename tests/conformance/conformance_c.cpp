// conformance_c CASES.json: runs every case of the conformance suite through libcharter-verify's
// C ABI (charter/verify.h) and names each disagreement: the case, the verifier, the expected and
// the actual status (and claims, for a valid case). Exit status 0 exactly when all agree.

#include "charter/verify.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

using Json = nlohmann::json;

// The suite's stable status names (tests/conformance/README.md).
char const* status_name(int status)
{
    switch (status) {
    case CHARTER_OK: return "valid";
    case CHARTER_E_INVALID_ARGUMENT: return "invalid_argument";
    case CHARTER_E_NO_MEMORY: return "no_memory";
    case CHARTER_E_TOO_LARGE: return "too_large";
    case CHARTER_E_MALFORMED: return "malformed";
    case CHARTER_E_BAD_ENCODING: return "bad_encoding";
    case CHARTER_E_BAD_FOOTER: return "bad_footer";
    case CHARTER_E_NO_KEYS: return "no_keys";
    case CHARTER_E_UNKNOWN_KEY: return "unknown_key";
    case CHARTER_E_BAD_SIGNATURE: return "bad_signature";
    case CHARTER_E_BAD_CLAIMS: return "bad_claims";
    case CHARTER_E_MISSING_CLAIM: return "missing_claim";
    case CHARTER_E_WRONG_CLAIM_TYPE: return "wrong_claim_type";
    case CHARTER_E_WRONG_PRODUCT: return "wrong_product";
    case CHARTER_E_NOT_YET_VALID: return "not_yet_valid";
    case CHARTER_E_EXPIRED: return "expired";
    case CHARTER_E_UPDATES_ENDED: return "updates_ended";
    case CHARTER_E_REVOKED: return "revoked";
    case CHARTER_E_BAD_KEY: return "bad_key";
    case CHARTER_E_BAD_REVOCATION_LIST: return "bad_revocation_list";
    case CHARTER_E_INTERNAL: return "internal";
    case CHARTER_E_NO_LICENSE: return "no_license";
    }
    return "unknown";
}

// A token or revocation file: a string, or pieces (strings and {"repeat": s, "count": n}).
std::string expand(Json const& value)
{
    if (value.is_string())
        return value.get<std::string>();
    std::string out;
    for (auto const& piece : value) {
        if (piece.is_string()) {
            out += piece.get<std::string>();
            continue;
        }
        auto text = piece["repeat"].get<std::string>();
        for (size_t i = 0, count = piece["count"].get<size_t>(); i < count; ++i)
            out += text;
    }
    return out;
}

struct Outcome {
    std::string status;
    Json claims;
};

Outcome run(Json const& test)
{
    Outcome outcome;
    charter_verifier* verifier = charter_verifier_new(test["product"].get<std::string>().c_str());
    int status = CHARTER_OK;
    for (auto const& key : test["keys"]) {
        if (status == CHARTER_OK)
            status = charter_verifier_add_key(verifier, key.get<std::string>().c_str());
    }
    if (status == CHARTER_OK)
        status = charter_verifier_set_leeway(verifier, test["leeway"].get<int64_t>());
    if (status == CHARTER_OK && !test["build_time"].is_null())
        status = charter_verifier_set_build_time(verifier, test["build_time"].get<int64_t>());
    if (status == CHARTER_OK && !test["revocations"].is_null()) {
        auto file = expand(test["revocations"]);
        status = charter_verifier_set_revocation_list(verifier, file.data(), file.size(), nullptr, 0);
    }
    if (status == CHARTER_OK) {
        auto token = expand(test["token"]);
        charter_license* license = nullptr;
        status = charter_verify(verifier, token.data(), token.size(), test["now"].get<int64_t>(), &license, nullptr, 0);
        if (status == CHARTER_OK) {
            std::string claims = charter_license_claims_json(license);
            if (claims.starts_with("\xEF\xBB\xBF"))
                claims.erase(0, 3);
            outcome.claims = Json::parse(claims);
        }
        charter_license_free(license);
    }
    charter_verifier_free(verifier);
    outcome.status = status_name(status);
    return outcome;
}

}

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: conformance_c CASES.json\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "conformance_c: cannot read " << argv[1] << "\n";
        return 2;
    }
    auto suite = Json::parse(in);
    size_t failures = 0, count = 0;
    for (auto const& test : suite["cases"]) {
        ++count;
        auto outcome = run(test);
        std::string const expected = test["status"];
        if (outcome.status != expected) {
            ++failures;
            std::cout << "case " << test["name"].get<std::string>() << ", verifier c: expected " << expected << ", actual "
                      << outcome.status << "\n";
        } else if (expected == "valid" && outcome.claims != test["claims"]) {
            ++failures;
            std::cout << "case " << test["name"].get<std::string>() << ", verifier c: expected claims " << test["claims"].dump()
                      << ", actual " << outcome.claims.dump() << "\n";
        }
    }
    std::cout << "c: " << count - failures << " of " << count << " cases agree\n";
    return failures == 0 ? 0 : 1;
}
