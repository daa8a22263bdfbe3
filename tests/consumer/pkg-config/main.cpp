// consumer KEY TOKEN: verifies a license key for product acme-pro through the C++ wrapper,
// built with nothing but `c++ main.cpp $(pkg-config --cflags --libs charter-verify)`.
#include <charter/verify.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: consumer K4_PUBLIC TOKEN\n");
        return 2;
    }
    if (std::strcmp(charter_version(), CHARTER_VERSION_STRING) != 0) {
        std::fprintf(stderr, "header %s, library %s\n", CHARTER_VERSION_STRING, charter_version());
        return 1;
    }
    charter::Verifier verifier("acme-pro");
    if (verifier.add_key(argv[1]) != CHARTER_OK) {
        std::fprintf(stderr, "cannot configure the verifier\n");
        return 1;
    }
    auto result = verifier.verify(argv[2], 1795860000 + 86400); // a day after the test license was issued
    if (!result.valid() || result.license->id() != "lic_test" || !result.license->has_entitlement("sso")) {
        std::fprintf(stderr, "license refused: %s (%s)\n", result.status_string(), result.detail.c_str());
        return 1;
    }
    std::printf("license %.*s: valid, %zu entitlements\n", int(result.license->id().size()), result.license->id().data(),
        result.license->entitlements().size());
    return 0;
}
