// conformance_c CASES.json: runs every case of the conformance suite through libcharter-verify's
// C ABI (charter/verify.h) and names each disagreement: the case, the verifier, the expected and
// the actual status (and claims, for a valid case). Exit status 0 exactly when all agree.

#include "charter/verify.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <unistd.h>

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
    case CHARTER_E_WRONG_MACHINE: return "wrong_machine";
    case CHARTER_E_LEASE_EXPIRED: return "lease_expired";
    case CHARTER_E_SEATS_EXHAUSTED: return "seats_exhausted";
    case CHARTER_E_UNREACHABLE: return "unreachable";
    case CHARTER_E_ACTIVATION_REFUSED: return "activation_refused";
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

// An activation case: the keys, then charter_verify_activation with the case's fingerprint, clock
// and leeway.
Outcome run_activation(Json const& test)
{
    Outcome outcome;
    charter_verifier* verifier = charter_verifier_new(test["product"].get<std::string>().c_str());
    int status = CHARTER_OK;
    for (auto const& key : test["keys"]) {
        if (status == CHARTER_OK)
            status = charter_verifier_add_key(verifier, key.get<std::string>().c_str());
    }
    if (status == CHARTER_OK) {
        auto token = expand(test["token"]);
        auto fingerprint = test["fingerprint"].get<std::string>();
        charter_activation* activation = nullptr;
        status = charter_verify_activation(verifier, token.data(), token.size(), fingerprint.data(), fingerprint.size(),
            test["now"].get<int64_t>(), test["leeway"].get<int64_t>(), &activation, nullptr, 0);
        if (status == CHARTER_OK)
            outcome.claims = Json::parse(charter_activation_claims_json(activation));
        charter_activation_free(activation);
    }
    charter_verifier_free(verifier);
    outcome.status = status_name(status);
    return outcome;
}

// A startup case runs in a fresh folder holding its files; the variable is
// CHARTER_CONFORMANCE_LICENSE. Returns "" when the outcome is as expected, else what differs.
std::string run_startup(Json const& test, std::filesystem::path const& folder)
{
    namespace fs = std::filesystem;
    fs::remove_all(folder);
    fs::create_directories(folder);
    auto write = [&](Json const& place) {
        if (place.contains("directory")) {
            fs::create_directory(folder / place["name"].get<std::string>());
        } else if (!place["content"].is_null()) {
            std::ofstream(folder / place["name"].get<std::string>(), std::ios::binary) << expand(place["content"]);
        }
    };
    for (auto const& place : test["files"])
        write(place);
    if (!test["revocation_file"].is_null())
        write(test["revocation_file"]);
    if (test["env"].is_null())
        unsetenv("CHARTER_CONFORMANCE_LICENSE");
    else
        setenv("CHARTER_CONFORMANCE_LICENSE", test["env"].get<std::string>().c_str(), 1);
    auto previous = fs::current_path();
    fs::current_path(folder);

    charter_verifier* verifier = charter_verifier_new(test["product"].get<std::string>().c_str());
    for (auto const& key : test["keys"])
        (void)charter_verifier_add_key(verifier, key.get<std::string>().c_str());
    if (!test["build_time"].is_null())
        (void)charter_verifier_set_build_time(verifier, test["build_time"].get<int64_t>());
    charter_startup* check = charter_startup_new(verifier);
    if (!test.contains("no_env"))
        (void)charter_startup_set_env(check, "CHARTER_CONFORMANCE_LICENSE");
    for (auto const& place : test["files"])
        (void)charter_startup_add_file(check, place["name"].get<std::string>().c_str());
    (void)charter_startup_set_mode(check, test["mode"] == "warn" ? CHARTER_MODE_WARN : CHARTER_MODE_ENFORCE);
    (void)charter_startup_set_grace_days(check, test["grace_days"].get<int>());
    if (!test["renew_url"].is_null())
        (void)charter_startup_set_renew_url(check, test["renew_url"].get<std::string>().c_str());
    if (!test["renewal_warning_days"].is_null())
        (void)charter_startup_set_renewal_warning_days(check, test["renewal_warning_days"].get<int>());
    if (!test["revocation_file"].is_null())
        (void)charter_startup_set_revocation_file(check, test["revocation_file"]["name"].get<std::string>().c_str());
    charter_startup_result* result = nullptr;
    [[maybe_unused]] int checked = charter_startup_check(check, test["now"].get<int64_t>(), &result);
    std::string status = status_name(charter_startup_result_status(result));
    bool valid = charter_startup_result_valid(result) == 1;
    bool warning = charter_startup_result_warning(result) == 1;
    std::string message = charter_startup_result_message(result);
    charter_startup_result_free(result);
    charter_startup_free(check);
    charter_verifier_free(verifier);
    fs::current_path(previous);
    unsetenv("CHARTER_CONFORMANCE_LICENSE");

    if (status != test["status"])
        return "expected " + test["status"].get<std::string>() + ", actual " + status;
    if (valid != test["valid"].get<bool>() || warning != test["warning"].get<bool>())
        return "expected valid " + test["valid"].dump() + " warning " + test["warning"].dump() + ", actual valid "
            + (valid ? "true" : "false") + " warning " + (warning ? "true" : "false");
    if (message != test["message"])
        return "expected message \"" + test["message"].get<std::string>() + "\", actual \"" + message + "\"";
    return "";
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
    for (auto const& test : suite["activation_cases"]) {
        ++count;
        auto outcome = run_activation(test);
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
    auto folder = std::filesystem::temp_directory_path() / ("charter-conformance-" + std::to_string(getpid()));
    for (auto const& test : suite["startup_cases"]) {
        ++count;
        if (auto difference = run_startup(test, folder); !difference.empty()) {
            ++failures;
            std::cout << "case " << test["name"].get<std::string>() << ", verifier c: " << difference << "\n";
        }
    }
    std::filesystem::remove_all(folder);
    std::cout << "c: " << count - failures << " of " << count << " cases agree\n";
    return failures == 0 ? 0 : 1;
}
