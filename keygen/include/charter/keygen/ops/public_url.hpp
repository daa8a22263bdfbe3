#pragma once
// The server's public URL (CHARTER_PUBLIC_URL, --public-url of charter-server and charter):
// the address customers reach the server at, behind whatever proxy. Mail (the Bundler source,
// the downloads URL) and the customer portal (sign-in links) build their links from it.

#include "charter/result.hpp"

#include <string>
#include <string_view>

namespace charter::ops {

/// `text` checked as a public URL and normalised: scheme http or https (lower-cased), a host,
/// an optional port and path; no user or password, query, fragment, space or control
/// character. The result has no trailing slash ("https://gems.acme.example",
/// "https://acme.example/charter"), so `url + "/rubygems/"` is a link. `what` names the
/// setting in the message ("--public-url", "CHARTER_PUBLIC_URL").
Result<std::string> parse_public_url(std::string_view text, std::string_view what);

/// The host name of a public URL parse_public_url returned, without its port: "gems.acme.example",
/// "127.0.0.1". What `bundle config set --global HOST license:KEY` names (Bundler looks a source's
/// credentials up by its host name without the port).
std::string public_url_host(std::string_view url);

}
