#pragma once
// `charter verifier export`: a license check in Ruby, Python or JavaScript that a vendor ships
// inside a gem, a Python package or an npm package, with no native code. The files are the
// templates under keygen/verifiers/ (embedded in the binary) with the product, the vendor's
// trusted public keys and a module name filled in; tests/conformance/ proves they decide as
// libcharter-verify does.

#include "charter/db/records.hpp"
#include "charter/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::ops {

enum class VerifierLanguage { ruby, python, javascript };

/// "ruby", "python" or "javascript".
std::optional<VerifierLanguage> parse_verifier_language(std::string_view name);

/// The Ruby module a verifier defines by default: "acme-pro" → "AcmeProLicense".
std::string default_verifier_module(std::string const& product_id);

/// The verifier of `product_id` trusting `keys`. Each public key is checked (check_public_key)
/// before it is written into source code; the product id and
/// the module name must be plain identifiers. ErrorKind::invalid_input otherwise.
Result<std::string> render_verifier(VerifierLanguage language, std::string const& product_id, std::string const& issuer,
    std::vector<db::SigningKeyRecord> const& keys, std::string const& module_name);

}
