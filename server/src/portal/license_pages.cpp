// The content of the portal's pages: sign-in, the customer's licenses, one license (overview,
// setup, downloads, download credentials). Every value goes through Html::text.

#include "charter/format/rfc3339.hpp"
#include "pages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace charter::server::portal {

namespace {

std::string date_or(std::optional<int64_t> const& time, char const* absent)
{
    return time ? format::format_date(*time) : std::string(absent);
}

std::string human_size(int64_t bytes)
{
    char text[32];
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    if (bytes < 1024 * 1024)
        std::snprintf(text, sizeof text, "%.1f KiB", double(bytes) / 1024);
    else
        std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1024 * 1024));
    return text;
}

void state_badge(Html& html, db::License const& license, int64_t now)
{
    auto state = db::state_name(db::state_at(license, now));
    html.raw(R"(<span class="state state-)").text(state).raw(R"(">)").text(state).raw("</span>");
}

struct Claims {
    std::vector<std::string> entitlements;
    std::optional<int64_t> seats;
};

Claims claims_of(db::License const& license)
{
    Claims claims;
    auto json = nlohmann::json::parse(license.claims_json, nullptr, false);
    if (!json.is_object())
        return claims;
    if (auto entitlements = json.find("entitlements"); entitlements != json.end() && entitlements->is_array()) {
        for (auto const& entitlement : *entitlements) {
            if (entitlement.is_string())
                claims.entitlements.push_back(entitlement.get<std::string>());
        }
    }
    if (auto seats = json.find("seats"); seats != json.end() && seats->is_number_integer())
        claims.seats = seats->get<int64_t>();
    return claims;
}

}

std::string state_sentence(db::License const& license, int64_t now)
{
    switch (db::state_at(license, now)) {
    case db::LicenseState::revoked:
        return "revoked on " + date_or(license.revoked_at, "an unknown date")
            + (license.revoke_reason && !license.revoke_reason->empty() ? " (" + *license.revoke_reason + ")" : "");
    case db::LicenseState::suspended:
        return "suspended since " + format::format_date(*license.suspended_at)
            + (license.suspend_reason && !license.suspend_reason->empty() ? " (" + *license.suspend_reason + ")" : "");
    case db::LicenseState::expired:
        return "expired on " + format::format_date(*license.expires_at);
    case db::LicenseState::active:
        break;
    }
    return "active";
}

std::string billing_sentence(db::StripeItem const& item, int64_t now)
{
    if (!item.subscription_id)
        return {};
    auto status = item.status.value_or("");
    auto end = item.period_end ? format::format_date(*item.period_end) : std::string();
    bool ended = item.period_end && *item.period_end <= now;
    // Stripe's status is "canceled" once the subscription is deleted; cancel_at_period_end while
    // it runs to the end of the paid period.
    if (item.canceled || status == "canceled")
        return end.empty() ? "Cancelled: the subscription has ended."
                           : std::string("Cancelled: the subscription ") + (ended ? "ended on " : "ends on ") + end + ".";
    if (item.cancel_at_period_end)
        return end.empty() ? "Cancelled: the subscription ends with its paid period and will not renew."
                           : "Cancelled: the subscription ends on " + end + " and will not renew.";
    if (status == "past_due" || status == "unpaid")
        return "Payment failed (" + status + "): update your payment method to keep this license.";
    if (status == "trialing")
        return end.empty() ? "Trial: the subscription renews when the trial ends." : "Trial until " + end + "; the subscription then renews.";
    if (status == "active")
        return end.empty() ? "The subscription renews by itself." : "Renews on " + end + ".";
    return status.empty() ? "Billed by subscription." : "Subscription " + status + ".";
}

std::string sign_in_content(SignInForm const& form)
{
    Html html;
    html.raw("<h1>Sign in</h1>");
    if (!form.notice.empty())
        html.raw(R"(<p class="notice" role="status">)").text(form.notice).raw("</p>");
    if (!form.error.empty())
        html.raw(R"(<p class="alert" role="alert" id="sign-in-error">)").text(form.error).raw("</p>");
    html.raw(R"(<form method="post" action="/portal/sign-in"><label for="secret">License key or download credential</label>)"
             R"(<p class="muted" id="secret-help">Paste the license key you received (it starts with <code>v4.public.</code>))"
             R"( or a download credential (<code>cdl_…</code>).</p>)"
             R"(<textarea id="secret" name="secret" required autocomplete="off" spellcheck="false" aria-describedby="secret-help)");
    if (!form.error.empty())
        html.raw(R"( sign-in-error" aria-invalid="true)");
    html.raw(R"("></textarea><p><button type="submit">Sign in</button></p></form>)");
    if (form.email_links) {
        html.raw(R"(<h2>Or sign in by email</h2><form method="post" action="/portal/sign-in/email">)"
                 R"(<label for="email">Email address</label><input type="email" id="email" name="email" required autocomplete="email">)"
                 R"(<p><button type="submit" class="quiet">Email me a sign-in link</button></p></form>)");
    }
    return html.take();
}

std::string licenses_content(std::string const& customer_name, std::vector<LicenseRow> const& rows, int64_t now)
{
    Html html;
    html.raw("<h1>Your licenses</h1>");
    if (!customer_name.empty())
        html.raw(R"(<p class="muted">Signed in as )").text(customer_name).raw(".</p>");
    if (rows.empty())
        return html.raw("<p>You have no licenses yet.</p>").take();
    html.raw(R"(<div class="scroll"><table><caption class="skip">Your licenses</caption><thead><tr><th scope="col">License</th>)"
             R"(<th scope="col">Product</th><th scope="col">Plan</th><th scope="col">State</th><th scope="col">Ends on</th>)"
             R"(<th scope="col">Updates until</th></tr></thead><tbody>)");
    for (auto const& row : rows) {
        auto const& license = row.license;
        html.raw(R"(<tr><td><a href="/portal/licenses/)").text(license.id).raw(R"("><code>)").text(license.id).raw("</code></a></td><td>");
        html.text(row.product_name).raw("</td><td>").text(license.plan_id.value_or("—")).raw("</td><td>");
        state_badge(html, license, now);
        html.raw("</td><td>").text(date_or(license.expires_at, "never (perpetual)")).raw("</td><td>");
        html.text(date_or(license.updates_until, "no limit")).raw("</td></tr>");
    }
    html.raw("</tbody></table></div>");
    return html.take();
}

void license_tabs(Html& html, std::string const& license_id, char const* current)
{
    static constexpr std::pair<char const*, char const*> tabs[] = {
        { "overview", "Overview" },
        { "setup", "Setup" },
        { "downloads", "Downloads" },
        { "credentials", "Credentials" },
    };
    html.raw(R"(<nav aria-label="License"><ul class="tabs">)");
    for (auto const& [name, label] : tabs) {
        html.raw(R"(<li><a href="/portal/licenses/)").text(license_id);
        if (std::string(name) != "overview")
            html.raw("/").raw(name);
        html.raw("\"");
        if (std::string(name) == current)
            html.raw(R"( aria-current="page")");
        html.raw(">").raw(label).raw("</a></li>");
    }
    html.raw("</ul></nav>");
}

namespace {

void license_heading(Html& html, db::License const& license, std::string const& product_name, char const* page)
{
    html.raw("<h1>").text(product_name).raw(R"( <span class="muted">)").text(page).raw("</span></h1>");
    license_tabs(html, license.id, page == std::string("Overview") ? "overview"
            : page == std::string("Setup")                        ? "setup"
            : page == std::string("Downloads")                    ? "downloads"
                                                                  : "credentials");
}

// The machines holding seats of the license now, each with a Deactivate form. An activation
// released, or whose lease ended (marked expired or not yet), holds no seat and is not listed.
void activations_section(Html& html, LicenseView const& view, std::optional<int64_t> seats, int64_t now)
{
    if (!seats && view.activations.empty())
        return;
    std::vector<db::Activation const*> live;
    int64_t held = 0;
    for (auto const& activation : view.activations) {
        if (activation.live_at(now)) {
            live.push_back(&activation);
            held += activation.units;
        }
    }
    std::sort(live.begin(), live.end(), [](auto const* a, auto const* b) { return a->seat < b->seat; });
    html.raw(R"(<h2 id="activations">Activations</h2><p id="seats-in-use">)");
    if (seats)
        html.text(std::to_string(held)).raw(" of ").text(std::to_string(*seats)).raw(" seats in use.");
    else
        html.text(std::to_string(held)).raw(held == 1 ? " seat in use (no limit)." : " seats in use (no limit).");
    html.raw(" Deactivating a machine frees its seat for another; the product on it learns at its next check that it no "
             "longer holds one.</p>");
    if (live.empty()) {
        html.raw("<p>No machine holds a seat now.</p>");
        return;
    }
    html.raw(R"(<div class="scroll"><table><thead><tr><th scope="col">Seat</th><th scope="col">Machine</th>)"
             R"(<th scope="col">Fingerprint</th><th scope="col">Counts</th><th scope="col">Last heartbeat</th>)"
             R"(<th scope="col">Lease ends</th><th scope="col"><span class="skip">Action</span></th></tr></thead><tbody>)");
    for (auto const* activation : live) {
        auto name = activation->label.value_or(activation->id);
        html.raw(R"(<tr id=")").text(activation->id).raw(R"("><td>)").text(std::to_string(activation->seat)).raw("</td><td>");
        if (activation->label)
            html.text(*activation->label);
        else
            html.raw(R"(<span class="muted">no label</span>)");
        html.raw("</td><td><code>");
        html.text(activation->fingerprint_sha256.substr(0, 12)).raw(R"(…</code></td><td class="nowrap">)");
        if (activation->processes)
            html.text(std::to_string(*activation->processes)).raw(*activation->processes == 1 ? " process" : " processes");
        else if (activation->cores)
            html.text(std::to_string(*activation->cores)).raw(*activation->cores == 1 ? " core" : " cores");
        else
            html.raw("1 machine");
        html.raw(R"(</td><td class="nowrap">)").text(format::format_rfc3339(activation->heartbeat_at)).raw(R"(</td><td class="nowrap">)");
        if (activation->lease_ends_at)
            html.text(format::format_rfc3339(*activation->lease_ends_at));
        else
            html.raw("node-locked");
        html.raw(R"(</td><td><form class="inline" method="post" action="/portal/licenses/)").text(view.license.id);
        html.raw("/activations/").text(activation->id).raw(R"(/deactivate">)");
        csrf_field(html, view.session);
        html.raw(R"(<button type="submit" class="quiet" aria-label="Deactivate )").text(name).raw(R"(">Deactivate</button></form></td></tr>)");
    }
    html.raw("</tbody></table></div>");
}

}

std::string license_content(LicenseView const& view, int64_t now)
{
    auto const& license = view.license;
    auto claims = claims_of(license);
    Html html;
    license_heading(html, license, view.product.name, "Overview");
    html.raw(R"(<dl class="facts"><dt>License id</dt><dd><code id="license-id" data-copy="license id">)").text(license.id);
    html.raw(R"(</code> <span class="muted">(quote it to support)</span></dd><dt>Product</dt><dd>)").text(view.product.name);
    html.raw(" (<code>").text(license.product_id).raw("</code>)</dd><dt>Plan</dt><dd>").text(license.plan_id.value_or("—"));
    html.raw("</dd><dt>State</dt><dd>");
    state_badge(html, license, now);
    auto sentence = state_sentence(license, now);
    if (sentence != "active")
        html.raw(" ").text(sentence);
    html.raw("</dd><dt>Ends on</dt><dd>").text(date_or(license.expires_at, "never (perpetual)"));
    if (auto billing = view.billing ? billing_sentence(*view.billing, now) : std::string(); !billing.empty()) {
        auto status = view.billing->status.value_or("");
        bool failed = !view.billing->canceled && (status == "past_due" || status == "unpaid");
        html.raw(failed ? R"(</dd><dt>Billing</dt><dd id="billing" class="billing-failed">)" : R"(</dd><dt>Billing</dt><dd id="billing">)");
        html.text(billing);
        if (view.billing_url)
            html.raw(R"( <a id="billing-link" href=")").text(*view.billing_url).raw(R"(">Manage billing</a>)");
    }
    html.raw("</dd><dt>Updates until</dt><dd>").text(date_or(license.updates_until, "no limit"));
    html.raw("</dd><dt>Entitlements</dt><dd>");
    if (claims.entitlements.empty())
        html.raw("none");
    for (size_t i = 0; i < claims.entitlements.size(); ++i)
        html.raw(i ? ", <code>" : "<code>").text(claims.entitlements[i]).raw("</code>");
    html.raw("</dd><dt>Seats</dt><dd>").text(claims.seats ? std::to_string(*claims.seats) : "not limited");
    html.raw("</dd><dt>Key versions</dt><dd>").text(std::to_string(license.version)).raw("</dd></dl>");

    html.raw("<h2>Your current license key</h2>");
    if (license.status == "revoked") {
        html.raw("<p>This license was revoked: its key is no longer accepted. Contact the vendor for a new license.</p>");
    } else {
        html.raw(R"(<p>Version )").text(std::to_string(license.version)).raw(", signed on ").text(format::format_date(license.issued_at));
        html.raw(R"(. Keys of earlier versions keep working for downloads; your product checks the key it is given.</p>)"
                 R"(<pre class="secret" id="license-key" data-copy="license key">)")
            .text(license.token)
            .raw("</pre>");
    }

    html.raw(R"(<h2>Key versions</h2><div class="scroll"><table><thead><tr><th scope="col">Version</th><th scope="col">Why</th>)"
             R"(<th scope="col">Signed on</th><th scope="col">Ends on</th><th scope="col">Updates until</th></tr></thead><tbody>)");
    for (auto it = view.versions.rbegin(); it != view.versions.rend(); ++it) {
        html.raw("<tr><td>").text(std::to_string(it->version)).raw("</td><td>").text(it->reason).raw("</td><td>");
        html.text(format::format_date(it->issued_at)).raw("</td><td>").text(date_or(it->expires_at, "never"));
        html.raw("</td><td>").text(date_or(it->updates_until, "no limit")).raw("</td></tr>");
    }
    html.raw("</tbody></table></div>");
    activations_section(html, view, claims.seats, now);
    return html.take();
}

std::string setup_content(SetupView const& view)
{
    auto const& license = view.license;
    auto url = view.base_url;
    auto host = url.substr(url.find("://") + 3);
    auto host_without_port = host.substr(0, host.rfind(':') == std::string::npos || host.back() == ']' ? host.size() : host.rfind(':'));
    auto source = url + "/rubygems/";
    auto key = license.status == "revoked" ? std::string("KEY") : license.token;
    Html html;
    license_heading(html, license, view.product.name, "Setup");
    html.raw("<p>The commands below are filled in with this license's current key. On a CI system, prefer a "
             R"(<a href="/portal/licenses/)")
        .text(license.id)
        .raw(R"(/credentials">download credential</a> of its own in place of the key.</p>)");
    html.raw("<h2>Bundler</h2><p>Once per machine:</p>");
    html.raw(R"(<pre id="setup-bundle-config" data-copy="the bundle config command">bundle config set --global )")
        .text(host_without_port)
        .raw(" license:")
        .text(key)
        .raw("</pre>");
    html.raw("<p>In the Gemfile, beside its usual global <code>source</code> line:</p>");
    html.raw(R"(<pre id="setup-gemfile" data-copy="the Gemfile lines">source ")").text(source).raw("\" do\n");
    for (auto const& name : view.gem_names)
        html.raw("  gem \"").text(name).raw("\"\n");
    html.raw("end</pre><p>Then <code>bundle install</code> as usual. In CI, the environment variable <code>BUNDLE_");
    std::string variable;
    for (char c : host_without_port)
        variable += c == '.' ? std::string("__") : c == '-' ? std::string("___") : std::string(1, char(std::toupper(static_cast<unsigned char>(c))));
    html.text(variable).raw("=license:KEY</code> does the same.</p>");
    html.raw("<h2>Without Bundler</h2>");
    auto authority = url.substr(0, url.find("://") + 3) + "license:" + key + "@" + host;
    for (auto const& name : view.gem_names) {
        html.raw(R"(<pre data-copy="the gem install command">gem install --clear-sources --source )").text(authority).raw("/rubygems/ ")
            .text(name)
            .raw("</pre>");
    }
    html.raw("<h2>Files with curl</h2>");
    if (view.newest_file) {
        html.raw(R"(<pre data-copy="the curl command">curl -fLO -u license:)").text(key).raw(" ").text(url).raw("/downloads/");
        html.text(view.newest_file->product_id).raw("/").text(view.newest_file->version).raw("/").text(view.newest_file->filename);
        html.raw("</pre>");
    }
    html.raw("<p>Your current key, for a deploy script:</p>");
    html.raw(R"(<pre data-copy="the curl command">curl -fsS -u license:)").text(key).raw(" ").text(url).raw("/v1/license</pre>");
    return html.take();
}

std::string downloads_content(DownloadsView const& view)
{
    Html html;
    license_heading(html, view.license, view.product.name, "Downloads");
    if (view.refused)
        html.raw(R"(<p class="alert" role="alert">)").text(view.refused->reason).raw("</p>");
    if (view.rows.empty())
        return html.raw("<p>No releases have been published yet.</p>").take();
    html.raw(R"(<div class="scroll"><table><thead><tr><th scope="col">Version</th><th scope="col">File</th><th scope="col">Released</th>)"
             R"(<th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead><tbody>)");
    for (auto const& row : view.rows) {
        auto const& release = row.release;
        bool allowed = row.decision.allowed();
        html.raw(allowed ? "<tr>" : R"(<tr class="unavailable">)").raw("<td>").text(release.version).raw("</td><td>");
        if (allowed) {
            html.raw(R"(<a href="/portal/licenses/)").text(view.license.id).raw("/downloads/").text(release.version).raw("/")
                .text(release.filename)
                .raw(R"(">)")
                .text(release.filename)
                .raw("</a>");
        } else {
            html.text(release.filename).raw(R"(<br><span class="reason">)");
            if (row.decision.outcome == Entitlement::updates_ended && view.license.updates_until)
                html.raw("released after your updates ended on ").text(format::format_date(*view.license.updates_until));
            else
                html.text(row.decision.reason);
            html.raw("</span>");
        }
        html.raw("</td><td>").text(format::format_date(release.released_at)).raw("</td><td>").text(human_size(release.size));
        html.raw(R"(</td><td><code class="secret">)").text(release.sha256).raw("</code></td></tr>");
    }
    html.raw("</tbody></table></div>");
    return html.take();
}

std::string credentials_content(CredentialsView const& view)
{
    Html html;
    license_heading(html, view.license, view.product_name, "Credentials");
    html.raw("<p>A download credential stands for this license wherever the key does for downloads (Bundler, gem, curl), "
             "and can be revoked alone: give each machine or CI system its own.</p>");
    if (view.created) {
        auto const& [credential, secret] = *view.created;
        html.raw(R"(<div class="notice" role="status"><p>Credential <strong>)").text(credential.name);
        html.raw("</strong> created. Copy its secret now: it is shown only once.</p>");
        html.raw(R"(<pre class="secret" id="new-secret" data-copy="the new secret">)").text(secret).raw("</pre></div>");
    }
    if (!view.error.empty())
        html.raw(R"(<p class="alert" role="alert" id="credential-error">)").text(view.error).raw("</p>");
    html.raw(R"(<h2>New credential</h2><form method="post" action="/portal/licenses/)").text(view.license.id).raw(R"(/credentials">)");
    csrf_field(html, view.session);
    html.raw(R"(<label for="credential-name">Name (where it is used, e.g. ci)</label>)"
             R"(<input type="text" id="credential-name" name="name" required maxlength="100" autocomplete="off">)"
             R"(<p><button type="submit">Create credential</button></p></form>)");
    html.raw("<h2>Credentials</h2>");
    if (view.credentials.empty())
        return html.raw("<p>None yet.</p>").take();
    html.raw(R"(<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Created</th>)"
             R"(<th scope="col">Last used</th><th scope="col">State</th></tr></thead><tbody>)");
    for (auto const& credential : view.credentials) {
        html.raw("<tr><td>").text(credential.name).raw("</td><td><code>").text(credential.id).raw("</code></td><td>");
        html.text(format::format_date(credential.created_at)).raw("</td><td>");
        if (credential.last_used_at)
            html.text(format::format_rfc3339(*credential.last_used_at)).raw(" from ").text(credential.last_used_from.value_or("?"));
        else
            html.raw("never");
        html.raw("</td><td>");
        if (credential.revoked_at) {
            html.raw("revoked on ").text(format::format_date(*credential.revoked_at));
        } else {
            html.raw(R"(<form class="inline" method="post" action="/portal/licenses/)").text(view.license.id).raw("/credentials/")
                .text(credential.id)
                .raw(R"(/revoke">)");
            csrf_field(html, view.session);
            html.raw(R"(<button type="submit" class="quiet" aria-label="Revoke )").text(credential.name).raw(R"(">Revoke</button></form>)");
        }
        html.raw("</td></tr>");
    }
    html.raw("</tbody></table></div>");
    return html.take();
}

}
