#include "charter/keygen/ops/verifier_export.hpp"

#include "charter/keygen/ops/key_store.hpp"

#include <regex>

namespace charter::ops {

namespace templates {
std::string ruby_verifier();
std::string python_verifier();
std::string javascript_verifier();
}

namespace {

void replace_all(std::string& text, std::string_view placeholder, std::string const& value)
{
    for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
        text.replace(at, placeholder.size(), value);
}

// Text that goes into a comment of the generated file: one line, no control characters.
std::string comment_safe(std::string text)
{
    for (auto& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
    }
    return text;
}

}

std::optional<VerifierLanguage> parse_verifier_language(std::string_view name)
{
    if (name == "ruby")
        return VerifierLanguage::ruby;
    if (name == "python")
        return VerifierLanguage::python;
    if (name == "javascript")
        return VerifierLanguage::javascript;
    return std::nullopt;
}

std::string default_verifier_module(std::string const& product_id)
{
    std::string name;
    bool upper = true;
    for (char c : product_id) {
        if (c == '-' || c == '_' || c == '.') {
            upper = true;
            continue;
        }
        name += upper && c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
        upper = false;
    }
    if (name.empty() || !(name[0] >= 'A' && name[0] <= 'Z'))
        name = "Product" + name;
    return name + "License";
}

Result<std::string> render_verifier(VerifierLanguage language, std::string const& product_id, std::string const& issuer,
    std::vector<db::SigningKeyRecord> const& keys, std::string const& module_name)
{
    static std::regex const product_pattern("[a-z0-9][a-z0-9._-]{0,63}");
    static std::regex const module_pattern("[A-Z][A-Za-z0-9_]{0,63}");
    if (!std::regex_match(product_id, product_pattern))
        return make_error(ErrorKind::invalid_input, "product id \"" + product_id + "\" cannot be written into a verifier");
    if (!std::regex_match(module_name, module_pattern))
        return make_error(ErrorKind::invalid_input,
            "--module \"" + module_name + "\" is not a Ruby constant name (a capital letter, then letters, digits or _)");
    if (keys.empty())
        return make_error(ErrorKind::invalid_input, "no trusted signing key to write into the verifier; run charter key new");
    std::string key_lines;
    for (auto const& key : keys) {
        // The database's text goes into source code: it must be exactly a k4.public PASERK (only
        // base64url characters) whose id is the kid recorded with it.
        if (auto checked = check_public_key(key); !checked)
            return checked.error();
        std::string indent = language == VerifierLanguage::python ? "    " : "  ";
        key_lines += indent + "\"" + key.public_paserk + "\", # " + key.kid + (key.current ? " (current signing key)" : "") + "\n";
        if (language == VerifierLanguage::javascript)
            key_lines.replace(key_lines.rfind(" # "), 3, " // ");
    }
    if (!key_lines.empty())
        key_lines.pop_back();
    std::string text = language == VerifierLanguage::ruby ? templates::ruby_verifier()
        : language == VerifierLanguage::python            ? templates::python_verifier()
                                                          : templates::javascript_verifier();
    replace_all(text, "@KEYS@", key_lines);
    replace_all(text, "@PRODUCT@", product_id);
    replace_all(text, "@MODULE@", module_name);
    replace_all(text, "@ISSUER@", comment_safe(issuer));
    return text;
}

}
