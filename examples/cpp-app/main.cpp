// acme-pro, a C++ program that checks its license at startup (docs/integrating.md).
// Exit status: 0 when licensed (possibly with a warning on stderr), 1 when not.

#include <charter/verify.hpp>

#include <iostream>
#include <string>

#include "charter_keys.hpp" // generated when configuring: charter key export --format cpp

int main()
{
    charter::Verifier verifier("acme-pro");
    for (auto key : charter_public_keys) {
        if (verifier.add_key(std::string(key).c_str()) != CHARTER_OK) {
            std::cerr << "acme-pro: embedded public key " << key << " is invalid\n";
            return 1;
        }
    }
    verifier.set_build_time(ACME_BUILD_TIME);

    auto result = charter::StartupCheck(verifier)
                      .env("ACME_PRO_LICENSE")
                      .file("./config/acme-pro.license")
                      .file("~/.config/acme-pro/license")
                      .revocation_file("./config/acme-pro.revocations")
                      .grace_days(14)
                      .renew_url("https://acme.example/renew")
                      .run();
    if (!result.valid) {
        std::cerr << "acme-pro: " << result.message << "\n\n" << result.diagnostic;
        return 1;
    }
    if (result.warning)
        std::cerr << "acme-pro: warning: " << result.message << "\n";
    if (result.license) {
        auto const& license = *result.license;
        std::cout << "licensed to " << license.name().value_or(license.customer()) << " (" << license.id() << ")\n";
        std::cout << "entitlements:";
        auto entitlements = license.entitlements();
        for (size_t i = 0; i < entitlements.size(); ++i)
            std::cout << (i ? ", " : " ") << entitlements[i];
        std::cout << (entitlements.empty() ? " none\n" : "\n");
    }
    // ... acme-pro itself; license.has_entitlement("sso") gates a feature ...
    return 0;
}
