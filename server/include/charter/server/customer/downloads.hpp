#pragma once
// What the two file-download paths share, /downloads/{product}/{version}/{file} and the
// RubyGems source's /rubygems/gems/{file}: the license check whose refusals go to the downloads
// log (here), and the entitlement rule, the log and the file itself (serve_release_file, in
// http_server.hpp).

#include "charter/server/customer/entitlement.hpp"
#include "charter/server/http_server.hpp"

#include <optional>

namespace charter::server {

/// The error code of a refusal by the entitlement rule ("revoked", "updates_ended", …).
char const* outcome_code(Entitlement outcome);

/// The license key of a file download, as LicenseAuth::authenticate checks it; a
/// refusal before the entitlement rule (401, or 403 not_yet_valid) is written to the downloads
/// log without a license id, like the rule's own refusals. A throttled request (429) is not,
/// so that a flood cannot fill the log.
std::optional<PresentedLicense> authenticate_download(HttpServer& server, httplib::Request const& request,
    httplib::Response& response);

}
