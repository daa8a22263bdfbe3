#include "charter/keygen/ops/public_url.hpp"

#include <algorithm>
#include <cctype>

namespace charter::ops {

namespace {

Error bad(std::string_view text, std::string_view what, std::string const& why)
{
    return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + std::string(text) + "\" " + why
            + "; give the address customers reach the server at, like https://gems.acme.example");
}

bool host_character(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '[' || c == ']'
        || c == ':';
}

}

Result<std::string> parse_public_url(std::string_view text, std::string_view what)
{
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f || byte >= 0x80)
            return bad(text, what, "contains a space, a control character or a non-ASCII byte (percent-encode it)");
    }
    auto separator = text.find("://");
    if (separator == std::string_view::npos)
        return bad(text, what, "is not a URL (no scheme)");
    std::string scheme(text.substr(0, separator));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (scheme != "http" && scheme != "https")
        return bad(text, what, "must start with http:// or https://");
    if (text.find_first_of("?#") != std::string_view::npos)
        return bad(text, what, "must not have a query or a fragment");
    auto rest = text.substr(separator + 3);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (authority.find('@') != std::string_view::npos)
        return bad(text, what, "must not hold a user name or password");
    if (authority.empty())
        return bad(text, what, "has no host");
    if (!std::all_of(authority.begin(), authority.end(), host_character))
        return bad(text, what, "has a host that is not a name, an IPv4 address or a [bracketed] IPv6 address");
    // A port: digits after the last ':' outside brackets.
    auto bracket = authority.rfind(']');
    auto colon = authority.rfind(':');
    auto authority_host = authority;
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        auto port = authority.substr(colon + 1);
        if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })
            || std::stoi(std::string(port)) > 65535)
            return bad(text, what, "has a port that is not a number from 0 to 65535");
        authority_host = authority.substr(0, colon);
    }
    if (authority_host.empty())
        return bad(text, what, "has no host");
    if (authority_host.front() != '[' && authority_host.find(':') != std::string_view::npos)
        return bad(text, what, "has an IPv6 address without brackets");
    std::string url = scheme + "://" + std::string(authority) + std::string(path);
    while (url.size() > scheme.size() + 3 + authority.size() && url.back() == '/')
        url.pop_back();
    return url;
}

std::string public_url_host(std::string_view url)
{
    auto separator = url.find("://");
    auto rest = separator == std::string_view::npos ? url : url.substr(separator + 3);
    auto authority = rest.substr(0, rest.find('/'));
    auto bracket = authority.rfind(']');
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket))
        authority = authority.substr(0, colon);
    return std::string(authority);
}

}
