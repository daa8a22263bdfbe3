#pragma once
// The startup check's state (charter_startup, charter_startup_result) and the check itself,
// behind its C boundary in c_api.cpp. Private to libcharter-verify.

#include "charter/verify.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct charter_startup {
    // A key file, or a key the application found itself (charter_startup_add_value).
    struct Source {
        charter_source_kind kind { CHARTER_SOURCE_FILE };
        std::string name;
        std::optional<std::string> value;
    };
    charter_verifier const* verifier { nullptr };
    std::string env_name; // empty: no environment variable
    std::vector<Source> sources; // in the order added, after the environment variable
    charter_startup_mode mode { CHARTER_MODE_ENFORCE };
    int grace_days { 0 };
    // Days before exp from which a valid license carries a warning that it is ending; 0: never.
    int renewal_warning_days { 14 };
    std::string revocation_file; // empty: none
    std::string renew_url;       // empty: none
};

struct charter_startup_result {
    struct Place {
        charter_source_kind kind { CHARTER_SOURCE_NONE };
        std::string name; // as configured
        std::string path; // "~/" expanded; the variable name for the environment
        charter_place_state state { CHARTER_PLACE_NOT_CHECKED };
        std::string detail;
    };
    struct LicenseFree {
        void operator()(charter_license* license) const { charter_license_free(license); }
    };
    struct ActivationFree {
        void operator()(charter_activation* activation) const { charter_activation_free(activation); }
    };

    int status { CHARTER_E_INTERNAL };
    bool valid { false };
    bool warning { false };
    charter_source_kind source_kind { CHARTER_SOURCE_NONE };
    std::string source;
    std::unique_ptr<charter_license, LicenseFree> license;
    std::string message;
    std::string diagnostic;
    std::vector<Place> places;
    // Activation mode (charter_seat_*): the seat's activation, and until when the product may
    // run on it (lease end + leeway + grace); absent when node-locked or not activated.
    std::unique_ptr<charter_activation, ActivationFree> activation;
    std::optional<int64_t> valid_until;
    // The license key found (never exposed: the seat authenticates with it).
    std::string key;
};

namespace charter::internal {

inline constexpr int max_grace_days = 3650;
inline constexpr int max_renewal_warning_days = 3650;

/// Looks for the key, verifies it and explains the outcome into `result`. Throws std::bad_alloc.
void run_check(charter_startup const& check, int64_t now, charter_startup_result& result);

}
