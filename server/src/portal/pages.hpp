#pragma once
// The portal's pages as functions from data to HTML (private to server/src/portal): the frame
// every page shares (layout.cpp), and each page's content. They read nothing and decide
// nothing: routes_portal.cpp gathers the data, checks the session and ownership, and answers.

#include "charter/db/records.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/portal/branding.hpp"
#include "charter/server/portal/html.hpp"

#include <httplib.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace charter::server::portal {

/// What the frame of a page shows around its content.
struct Frame {
    std::string title;
    /// Signed in: the navigation and the sign-out form (with the session's CSRF token).
    std::optional<db::PortalSession> session;
    std::string customer_name;
};

/// The whole document: head (stylesheet, script), the header with the vendor's name and logo,
/// the navigation when signed in, `content` in <main>, the footer with the support address.
std::string render_page(Branding const& branding, Frame const& frame, std::string const& content);

/// Answers `html` with the portal's headers: Content-Security-Policy, X-Frame-Options DENY,
/// nosniff, no referrer, Cache-Control no-store.
void send_page(httplib::Response& response, Branding const& branding, int status, std::string html);

/// The hidden field every form of a signed-in page carries.
void csrf_field(Html& html, db::PortalSession const& session);

// The pages' content.

struct SignInForm {
    std::string error;  // shown above the form, tied to the field
    std::string notice; // e.g. "check your email"
    bool email_links { false }; // the email form is offered (mail is configured)
};
std::string sign_in_content(SignInForm const& form);

struct LicenseRow {
    db::License license;
    std::string product_name;
};
std::string licenses_content(std::string const& customer_name, std::vector<LicenseRow> const& rows, int64_t now);

/// The tabs of a license's pages; `current` is "overview", "setup", "downloads", "credentials".
void license_tabs(Html& html, std::string const& license_id, char const* current);

struct LicenseView {
    db::License license;
    db::Product product;
    std::vector<db::LicenseVersion> versions;
    db::PortalSession session; // the Deactivate forms carry its CSRF token
    /// The Stripe subscription item the license is billed through; absent (or a one-time
    /// purchase, without a subscription) shows nothing about billing.
    std::optional<db::StripeItem> billing;
    std::optional<std::string> billing_url; // --portal-billing-url
    /// Every activation of the license (released and expired ones too): the page lists the
    /// live ones, and shows the section when the license has seats or ever had an activation.
    std::vector<db::Activation> activations;
};
std::string license_content(LicenseView const& view, int64_t now);

/// What the license page says of a subscription item: "Renews on 2027-01-05.", "Cancelled:
/// ends on …", "Payment failed (past_due) …", "Trial until …"; empty for a one-time purchase.
std::string billing_sentence(db::StripeItem const& item, int64_t now);

struct SetupView {
    db::License license;
    db::Product product;
    std::string base_url; // "https://gems.acme.example"
    std::vector<std::string> gem_names;
    std::optional<db::Release> newest_file; // the newest release the license may download
};
std::string setup_content(SetupView const& view);

struct DownloadRow {
    db::Release release;
    EntitlementDecision decision;
};
struct DownloadsView {
    db::License license;
    db::Product product;
    std::optional<EntitlementDecision> refused; // nothing may be downloaded, and why
    std::vector<DownloadRow> rows;              // newest first
};
std::string downloads_content(DownloadsView const& view);

struct CredentialsView {
    db::License license;
    std::string product_name;
    std::vector<db::Credential> credentials;
    db::PortalSession session;
    std::optional<std::pair<db::Credential, std::string>> created; // the new credential and its secret, shown once
    std::string error;
};
std::string credentials_content(CredentialsView const& view);

std::string not_found_content();

/// "active", "suspended since 2026-12-05 (payment failed)": the state and its reason.
std::string state_sentence(db::License const& license, int64_t now);

}
