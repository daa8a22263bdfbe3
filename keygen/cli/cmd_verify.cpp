// charter verify, charter inspect

#include "charter/format/base64url.hpp"
#include "charter/format/claims.hpp"
#include "charter/format/paseto.hpp"
#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/verify.hpp"
#include "context.hpp"

#include <iostream>
#include <iterator>

namespace charter::cli {

namespace {

struct VerifyOptions {
    std::string product;
    std::vector<std::string> keys;
    std::string at;
    std::string token;
    bool json { false };
};

Result<std::string> read_token(std::string const& argument)
{
    std::string token = argument;
    if (argument == "-")
        token.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' || token.back() == '\t'))
        token.pop_back();
    size_t start = token.find_first_not_of(" \t\r\n");
    token = start == std::string::npos ? "" : token.substr(start);
    if (token.empty())
        return make_error(ErrorKind::invalid_input, "no license key given");
    return token;
}

// The unverified message and footer, for inspect and to find the product to verify for.
struct Unverified {
    format::DecodedToken token;
    ops::Json claims;
};

Result<Unverified> decode_unverified(std::string const& text)
{
    Unverified unverified;
    std::string detail;
    if (format::decode_v4_public(text, unverified.token, detail, CHARTER_MAX_REVOCATION_LIST_SIZE) != CHARTER_OK)
        return make_error(ErrorKind::invalid_input, detail);
    unverified.claims = ops::Json::parse(unverified.token.message, nullptr, false);
    return unverified;
}

int run_verify(Context& context, VerifyOptions const& options)
{
    auto token = read_token(options.token);
    if (!token)
        return context.fail(token.error());
    int64_t now = context.now();
    if (!options.at.empty()) {
        auto at = parse_time_option(options.at, now, "--at");
        if (!at)
            return context.fail(at.error());
        now = *at;
    }

    std::string product = options.product;
    if (product.empty()) {
        // The product is the implicit assertion: take the claim, and let the signature decide.
        std::string ignored;
        product = format::claimed_product(*token, ignored, CHARTER_MAX_REVOCATION_LIST_SIZE).value_or("?");
    }

    std::optional<ops::Workspace> workspace;
    std::vector<std::string> keys = options.keys;
    if (keys.empty()) {
        auto opened = context.open_workspace();
        if (!opened)
            return context.fail(make_error(opened.error().kind, opened.error().message + " (or pass --key k4.public…)"));
        workspace.emplace(std::move(*opened));
        auto trusted = workspace->trusted_keys();
        if (!trusted)
            return context.fail(trusted.error());
        for (auto const& key : *trusted)
            keys.push_back(key.public_paserk);
    }

    Verifier verifier(product.c_str());
    for (auto const& key : keys) {
        if (verifier.add_key(key.c_str()) != CHARTER_OK)
            return context.fail(make_error(ErrorKind::invalid_input, "--key \"" + key + "\" is not a k4.public key"));
    }
    auto result = verifier.verify(*token, now);
    int status = result.status;
    std::string detail = result.detail;
    // With the data directory at hand, a revocation recorded there counts too.
    if (status == CHARTER_OK && workspace) {
        auto license = workspace->store().get_license(std::string(result.license->id()));
        if (license && license->status == "revoked") {
            status = CHARTER_E_REVOKED;
            detail = "license " + license->id + " for " + license->product_id + " was revoked on "
                + format::format_rfc3339(license->revoked_at.value_or(0))
                + (license->revoke_reason ? " (" + *license->revoke_reason + ")" : "");
        }
    }

    if (options.json) {
        ops::Json json;
        json["valid"] = status == CHARTER_OK;
        json["status"] = status;
        json["status_name"] = charter_status_string(status);
        json["message"] = status == CHARTER_OK ? "valid" : detail;
        json["claims"] = result.license ? ops::Json::parse(result.license->claims_json(), nullptr, false) : ops::Json(nullptr);
        json["kid"] = result.license ? ops::Json(std::string(result.license->kid())) : ops::Json(nullptr);
        Context::print_json(json);
        return status == CHARTER_OK ? exit_ok : exit_invalid_license;
    }
    if (status != CHARTER_OK) {
        std::cout << context.red("invalid") << ": " << ops::printable(detail) << "\n";
        return exit_invalid_license;
    }
    auto const& license = *result.license;
    std::cout << context.green("valid") << ": " << license.id() << " for " << license.product() << "\n"
              << "  customer:      " << license.customer() << "\n";
    if (auto name = license.name())
        std::cout << "  name:          " << ops::printable(*name) << "\n";
    std::cout << "  issued:        " << format::format_rfc3339(license.issued_at()) << "\n"
              << "  expires:       " << (license.expires_at() ? format::format_rfc3339(*license.expires_at()) : "never") << "\n";
    if (auto until = license.updates_until())
        std::cout << "  updates until: " << format::format_rfc3339(*until) << "\n";
    if (auto seats = license.seats())
        std::cout << "  seats:         " << *seats << "\n";
    auto entitlements = license.entitlements();
    if (!entitlements.empty()) {
        std::cout << "  entitlements:  ";
        for (size_t i = 0; i < entitlements.size(); ++i)
            std::cout << (i ? " " : "") << ops::printable(entitlements[i]);
        std::cout << "\n";
    }
    std::cout << "  signed by:     " << license.kid() << "\n";
    return exit_ok;
}

int run_inspect(Context& context, VerifyOptions const& options)
{
    auto token = read_token(options.token);
    if (!token)
        return context.fail(token.error());
    auto unverified = decode_unverified(*token);
    if (!unverified)
        return context.fail(unverified.error());
    ops::Json json;
    json["verified"] = false;
    json["footer"] = unverified->token.has_footer ? ops::Json::parse(unverified->token.footer, nullptr, false) : ops::Json(nullptr);
    json["claims"] = unverified->claims.is_discarded() ? ops::Json(unverified->token.message) : unverified->claims;
    if (options.json) {
        Context::print_json(json);
        return exit_ok;
    }
    std::cerr << "NOT VERIFIED: this shows what the key says, not whether it is genuine (use `charter verify`)\n";
    std::cout << "footer: " << (unverified->token.has_footer ? ops::printable(unverified->token.footer) : "(none)") << "\n"
              << "claims: " << json["claims"].dump(2) << "\n";
    return exit_ok;
}

}

void register_verify(CLI::App& app, Context& context)
{
    auto options = std::make_shared<VerifyOptions>();
    auto* verify = app.add_subcommand("verify", "verify a license key offline (exit 0 valid, 1 not valid)");
    verify->add_option("KEY", options->token, "the license key, or - to read it from stdin")->required();
    verify->add_option("--product", options->product, "verify for this product (default: the key's own product claim)");
    verify->add_option("--key", options->keys, "trust this k4.public key instead of the data directory's keys; repeatable");
    verify->add_option("--at", options->at, "verify as of this time: RFC 3339, YYYY-MM-DD, or a duration from now (30d)");
    verify->add_flag("--json", options->json, "print status and claims as JSON");
    verify->footer("Examples:\n  charter verify \"$KEY\"\n  echo \"$KEY\" | charter verify --product acme-pro -\n"
                   "  charter verify --key k4.public.… --at 2027-06-01 \"$KEY\" --json");
    verify->callback([&context, options] { context.exit_code = run_verify(context, *options); });

    auto* inspect = app.add_subcommand("inspect", "show a key's footer and claims WITHOUT verifying it");
    inspect->add_option("KEY", options->token, "the license key, or - for stdin")->required();
    inspect->add_flag("--json", options->json, "print JSON");
    inspect->footer("Example:\n  charter inspect \"$KEY\"");
    inspect->callback([&context, options] { context.exit_code = run_inspect(context, *options); });
}

}
