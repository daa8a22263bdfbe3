#pragma once
// The vendor's branding of the customer portal (docs/portal.md "Branding"), fixed at start:
// the name, logo, accent colour, support address and billing link from the server's
// configuration, and what is built from them once: the stylesheet (the accent colour is in it,
// since the Content-Security-Policy allows no inline style), the URLs of the stylesheet and
// the script (with a digest of their content, so browsers may cache them for a year), and the
// Content-Security-Policy itself (the logo's origin among the image sources).

#include "charter/server/server_config.hpp"

#include <optional>
#include <string>

namespace charter::server {

struct Branding {
    std::string name;
    std::optional<std::string> logo_url;
    std::string accent;
    std::optional<std::string> support;
    std::optional<std::string> billing_url;

    std::string stylesheet;
    std::string stylesheet_url; // /portal/static/portal.css?v=…
    std::string script;
    std::string script_url; // /portal/static/portal.js?v=…
    std::string content_security_policy;
};

/// The branding of `config`, the issuer's name where --portal-name is not set.
Branding make_branding(ServerConfig const& config, std::string const& issuer);

}
