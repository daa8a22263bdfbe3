// The customer portal's routes (docs/portal.md): sign-in with a license key or a download
// credential, sign-out, and a signed-in customer's licenses with their setup, downloads and
// download credentials. Every page checks the session (the one customer it sees) and the
// ownership of the license in its URL: another customer's license id is the same 404 as an
// unknown one. Every form carries the session's CSRF token; every change is a POST, audited
// with the customer as actor.

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/credentials.hpp"
#include "charter/keygen/ops/mail_queue.hpp"
#include "charter/server/auth/rate_limiter.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"
#include "charter/server/portal/branding.hpp"
#include "charter/server/portal/portal_sessions.hpp"
#include "pages.hpp"

#include <algorithm>
#include <iostream>
#include <map>

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;
using portal::Frame;
using portal::render_page;
using portal::send_page;

// How long a sign-in link works after it was asked for.
constexpr int64_t sign_in_link_seconds = 15 * 60;

// A Host or Origin's host name without its port ("gems.acme.example:8443" → "gems.acme.example").
std::string host_name(std::string authority)
{
    if (auto scheme = authority.find("://"); scheme != std::string::npos)
        authority = authority.substr(scheme + 3);
    if (!authority.empty() && authority.front() == '[')
        return authority.substr(0, authority.find(']') + 1);
    return authority.substr(0, authority.find(':'));
}

std::string without_whitespace(std::string const& text)
{
    std::string kept;
    std::copy_if(text.begin(), text.end(), std::back_inserter(kept), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
    return kept;
}

class Portal {
public:
    explicit Portal(HttpServer& server)
        : m_server(server)
        , m_branding(make_branding(server.config(), server.issuer()))
        , m_sessions(server.config())
        , m_link_requests(server.config().auth_failures_per_minute)
    {
    }

    void register_routes(Add const& add);
    bool answer_unrouted(httplib::Request const& request, httplib::Response& response);

private:
    struct SignedIn {
        db::PortalSession session;
        db::Customer customer;
    };
    using Handler = void (Portal::*)(httplib::Request const&, httplib::Response&);

    void home(httplib::Request const& request, httplib::Response& response);
    void sign_in(httplib::Request const& request, httplib::Response& response);
    void sign_out(httplib::Request const& request, httplib::Response& response);
    void send_sign_in_link(httplib::Request const& request, httplib::Response& response);
    void sign_in_link(httplib::Request const& request, httplib::Response& response);
    void use_sign_in_link(httplib::Request const& request, httplib::Response& response);
    void licenses(httplib::Request const& request, httplib::Response& response);
    void license(httplib::Request const& request, httplib::Response& response);
    void setup(httplib::Request const& request, httplib::Response& response);
    void downloads(httplib::Request const& request, httplib::Response& response);
    void download_file(httplib::Request const& request, httplib::Response& response);
    void credentials(httplib::Request const& request, httplib::Response& response);
    void create_credential(httplib::Request const& request, httplib::Response& response);
    void revoke_credential(httplib::Request const& request, httplib::Response& response);
    void deactivate(httplib::Request const& request, httplib::Response& response);
    void stylesheet(httplib::Request const& request, httplib::Response& response);
    void script(httplib::Request const& request, httplib::Response& response);

    std::optional<StorePool::Lease> lease(httplib::Response& response);
    /// The signed-in customer, or nullopt after answering: a redirect to sign in for a page, or
    /// 403 for a form without its session's CSRF token (`form` given for a POST).
    std::optional<SignedIn> signed_in(db::Store& store, httplib::Request const& request, httplib::Response& response,
        httplib::Params const* form = nullptr);
    /// The license in the URL when it is the customer's; nullopt after answering 404 (unknown or
    /// another customer's: the same page).
    std::optional<db::License> own_license(db::Store& store, SignedIn const& who, std::string const& id,
        httplib::Response& response);
    /// What every page of one license starts from: the store, the signed-in customer, the
    /// license in the URL (theirs) and its product; nullopt after answering.
    struct LicensePage {
        StorePool::Lease store;
        SignedIn who;
        db::License license;
        db::Product product;
    };
    std::optional<LicensePage> license_page(httplib::Request const& request, httplib::Response& response,
        httplib::Params const* form = nullptr);
    /// The body of a form POST; nullopt after answering 415, or 403 when the Origin is another site's.
    std::optional<httplib::Params> read_form(httplib::Request const& request, httplib::Response& response);
    void page(httplib::Response& response, int status, std::string const& title, std::optional<SignedIn> const& who,
        std::string const& content);
    void redirect(httplib::Response& response, std::string const& location);
    void fail(httplib::Response& response, Error const& error, std::optional<SignedIn> const& who = std::nullopt);
    void not_found(httplib::Response& response, std::optional<SignedIn> const& who);
    /// The server's address as customers reach it: --public-url, else the request's own
    /// (its Host, and https when it came over HTTPS).
    std::string base_url(httplib::Request const& request) const;
    /// Sign-in links are sent when the server knows the address customers reach it at.
    bool email_links() const { return m_server.config().public_url.has_value(); }

    HttpServer& m_server;
    Branding m_branding;
    PortalSessions m_sessions;
    // Requests for sign-in links per client address: each sends an email, so a client may ask
    // for as many a minute as it may fail authentications (--auth-failure-limit).
    RateLimiter m_link_requests;
};

void Portal::register_routes(Add const& add)
{
    auto bind = [this](Handler handler) {
        return [this, handler](httplib::Request const& request, httplib::Response& response) { (this->*handler)(request, response); };
    };
    add("GET", "/portal/", bind(&Portal::home));
    add("POST", "/portal/sign-in", bind(&Portal::sign_in));
    add("POST", "/portal/sign-out", bind(&Portal::sign_out));
    add("POST", "/portal/sign-in/email", bind(&Portal::send_sign_in_link));
    add("GET", "/portal/sign-in/link/{token}", bind(&Portal::sign_in_link));
    add("POST", "/portal/sign-in/link/{token}", bind(&Portal::use_sign_in_link));
    add("GET", "/portal/licenses", bind(&Portal::licenses));
    add("GET", "/portal/licenses/{id}", bind(&Portal::license));
    add("GET", "/portal/licenses/{id}/setup", bind(&Portal::setup));
    add("GET", "/portal/licenses/{id}/downloads", bind(&Portal::downloads));
    add("GET", "/portal/licenses/{id}/downloads/{version}/{file}", bind(&Portal::download_file));
    add("GET", "/portal/licenses/{id}/credentials", bind(&Portal::credentials));
    add("POST", "/portal/licenses/{id}/credentials", bind(&Portal::create_credential));
    add("POST", "/portal/licenses/{id}/credentials/{credential}/revoke", bind(&Portal::revoke_credential));
    add("POST", "/portal/licenses/{id}/activations/{activation}/deactivate", bind(&Portal::deactivate));
    add("GET", "/portal/static/portal.css", bind(&Portal::stylesheet));
    add("GET", "/portal/static/portal.js", bind(&Portal::script));
}

bool Portal::answer_unrouted(httplib::Request const& request, httplib::Response& response)
{
    if (request.path == "/portal") {
        redirect(response, "/portal/");
        return true;
    }
    // A page nobody serves is an HTML 404 for a browser; other methods get the route table's answer.
    if (!request.path.starts_with("/portal/") || (request.method != "GET" && request.method != "HEAD"))
        return false;
    not_found(response, std::nullopt);
    return true;
}

std::optional<StorePool::Lease> Portal::lease(httplib::Response& response)
{
    auto store = m_server.pool().lease();
    if (!store) {
        fail(response, store.error());
        return std::nullopt;
    }
    return std::move(*store);
}

void Portal::page(httplib::Response& response, int status, std::string const& title, std::optional<SignedIn> const& who,
    std::string const& content)
{
    Frame frame;
    frame.title = title;
    if (who) {
        frame.session = who->session;
        frame.customer_name = who->customer.name.empty() ? who->customer.email : who->customer.name;
    }
    send_page(response, m_branding, status, render_page(m_branding, frame, content));
}

void Portal::redirect(httplib::Response& response, std::string const& location)
{
    send_page(response, m_branding, 303, std::string());
    response.set_header("Location", location);
}

void Portal::fail(httplib::Response& response, Error const& error, std::optional<SignedIn> const& who)
{
    if (error.kind == ErrorKind::not_found)
        return not_found(response, who);
    // The details go to the server's log, never to the page.
    std::cerr << "charter-server: portal: " << error.message << "\n";
    Html html;
    html.raw("<h1>Something went wrong</h1><p>The page could not be shown because of a problem on our side. Try again in a "
             "minute; if it persists, contact support")
        .raw(m_branding.support ? " at " : "")
        .text(m_branding.support.value_or(""))
        .raw(".</p>");
    page(response, 500, "Error", who, html.take());
}

void Portal::not_found(httplib::Response& response, std::optional<SignedIn> const& who)
{
    page(response, 404, "Not found", who, portal::not_found_content());
}

std::string Portal::base_url(httplib::Request const& request) const
{
    if (m_server.config().public_url)
        return *m_server.config().public_url;
    auto host = request.get_header_value("Host");
    if (host.empty())
        host = "localhost";
    return std::string(m_sessions.is_https(request) ? "https" : "http") + "://" + host;
}

std::optional<httplib::Params> Portal::read_form(httplib::Request const& request, httplib::Response& response)
{
    // A browser sends Origin with every form POST: one from another site is refused before
    // anything else (the sign-in form has no session, hence no CSRF token, to check). "null"
    // is what a page that hides its origin (Referrer-Policy: no-referrer) sends; ours do not.
    auto origin = request.get_header_value("Origin");
    if (!origin.empty() && (origin == "null" || host_name(origin) != host_name(request.get_header_value("Host")))) {
        page(response, 403, "Refused", std::nullopt,
            "<h1>Refused</h1><p>This form was sent from another site. Open the portal and send it from there.</p>");
        return std::nullopt;
    }
    if (!request.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
        page(response, 415, "Refused", std::nullopt, "<h1>Refused</h1><p>Send the portal's forms from its pages.</p>");
        return std::nullopt;
    }
    httplib::Params form;
    httplib::detail::parse_query_text(request.body, form);
    return form;
}

std::optional<Portal::SignedIn> Portal::signed_in(db::Store& store, httplib::Request const& request,
    httplib::Response& response, httplib::Params const* form)
{
    auto session = m_sessions.current(store, request, m_server.now());
    if (!session) {
        fail(response, session.error());
        return std::nullopt;
    }
    if (!*session) {
        // A form of a session that ended: nothing is changed; the customer signs in again.
        if (form) {
            page(response, 403, "Signed out", std::nullopt,
                R"(<h1>You are signed out</h1><p>Your session ended, so nothing was changed. <a href="/portal/">Sign in</a> and try again.</p>)");
            return std::nullopt;
        }
        redirect(response, "/portal/");
        return std::nullopt;
    }
    auto customer = store.find_customer((*session)->customer_id);
    if (!customer) {
        fail(response, customer.error());
        return std::nullopt;
    }
    SignedIn who { std::move(**session), std::move(*customer) };
    if (form) {
        auto token = form->find("csrf");
        if (token == form->end() || !PortalSessions::csrf_matches(who.session, token->second)) {
            page(response, 403, "Refused", who,
                "<h1>Refused</h1><p>This form did not come from your portal session (its security token is missing or "
                "out of date), so nothing was changed. Reload the page and try again.</p>");
            return std::nullopt;
        }
    }
    return who;
}

std::optional<db::License> Portal::own_license(db::Store& store, SignedIn const& who, std::string const& id,
    httplib::Response& response)
{
    auto license = store.get_license(id);
    if (!license) {
        fail(response, license.error(), who);
        return std::nullopt;
    }
    // Another customer's license is answered exactly as an unknown one.
    if (license->customer_id != who.customer.id) {
        not_found(response, who);
        return std::nullopt;
    }
    return std::move(*license);
}

std::optional<Portal::LicensePage> Portal::license_page(httplib::Request const& request, httplib::Response& response,
    httplib::Params const* form)
{
    auto store = lease(response);
    if (!store)
        return std::nullopt;
    auto who = signed_in(**store, request, response, form);
    if (!who)
        return std::nullopt;
    auto license = own_license(**store, *who, request.matches[1], response);
    if (!license)
        return std::nullopt;
    auto product = (*store)->get_product(license->product_id);
    if (!product) {
        fail(response, product.error(), who);
        return std::nullopt;
    }
    return LicensePage { std::move(*store), std::move(*who), std::move(*license), std::move(*product) };
}

void Portal::home(httplib::Request const& request, httplib::Response& response)
{
    auto store = lease(response);
    if (!store)
        return;
    auto session = m_sessions.current(**store, request, m_server.now());
    if (!session)
        return fail(response, session.error());
    if (*session)
        return redirect(response, "/portal/licenses");
    portal::SignInForm form;
    form.email_links = email_links();
    page(response, 200, "Sign in", std::nullopt, portal::sign_in_content(form));
}

void Portal::sign_in(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto store = lease(response);
    if (!store)
        return;
    portal::SignInForm answer;
    answer.email_links = email_links();
    auto field = form->find("secret");
    auto secret = field == form->end() ? std::string() : without_whitespace(field->second);
    if (secret.empty()) {
        answer.error = "paste your license key (v4.public.…) or a download credential (cdl_…) into the field";
        return page(response, 422, "Sign in", std::nullopt, portal::sign_in_content(answer));
    }
    // The same checks, refusals and throttle as a key or credential sent by Bundler: at most
    // one Ed25519 verification (none for a key verified before, none for a credential).
    httplib::Response refusal;
    auto presented = m_server.license_auth().authenticate_secret(secret, request, refusal, &**store);
    if (!presented) {
        auto body = Json::parse(refusal.body, nullptr, false);
        answer.error = body.is_object() && body["error"].is_object() && body["error"]["message"].is_string()
            ? body["error"]["message"].get<std::string>()
            : std::string("the key or credential was not accepted; check that it was copied whole");
        int status = refusal.status == 429 || refusal.status == 403 || refusal.status >= 500 ? refusal.status : 401;
        page(response, status, "Sign in", std::nullopt, portal::sign_in_content(answer));
        // A 401 without a challenge: the browser shows the page, never its own password dialog.
        if (auto wait = refusal.get_header_value("Retry-After"); !wait.empty())
            response.set_header("Retry-After", wait);
        return;
    }
    auto with = (ops::is_credential_secret(secret) ? "credential of " : "key of ") + presented->facts.id;
    auto started = m_sessions.start(**store, presented->customer, with, request, response, m_server.now());
    if (!started)
        return fail(response, started.error());
    redirect(response, "/portal/licenses");
}

void Portal::send_sign_in_link(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    portal::SignInForm answer;
    answer.email_links = email_links();
    if (!email_links()) {
        answer.error = "sign-in by email is not set up on this server; sign in with your license key";
        return page(response, 404, "Sign in", std::nullopt, portal::sign_in_content(answer));
    }
    auto field = form->find("email");
    auto email = field == form->end() ? std::string() : without_whitespace(field->second);
    if (email.find('@') == std::string::npos) {
        answer.error = "enter the email address your licenses were issued to, like jane@example.com";
        return page(response, 422, "Sign in", std::nullopt, portal::sign_in_content(answer));
    }
    if (auto wait = m_link_requests.retry_after(request.remote_addr); wait > 0) {
        answer.error = "too many sign-in links were asked for from this address; retry in " + std::to_string(wait) + " s";
        page(response, 429, "Sign in", std::nullopt, portal::sign_in_content(answer));
        response.set_header("Retry-After", std::to_string(wait));
        return;
    }
    m_link_requests.record_failure(request.remote_addr);
    auto store = lease(response);
    if (!store)
        return;
    // The same answer whether or not a customer has this address: the page tells nobody who
    // is a customer.
    answer.notice = "If " + email + " is the address of a customer, a sign-in link is on its way to it. "
        + "The link works once, within 15 minutes.";
    auto customer = (*store)->find_customer(email);
    if (!customer && customer.error().kind != ErrorKind::not_found)
        return fail(response, customer.error());
    if (customer) {
        int64_t now = m_server.now();
        auto secret = new_portal_secret();
        db::SignInLink link { portal_secret_hash(secret), customer->id, now, now + sign_in_link_seconds, std::nullopt };
        auto url = *m_server.config().public_url + "/portal/sign-in/link/" + secret;
        // The link's row and its message in one transaction: both or neither.
        auto stored = (*store)->transaction([&]() -> Result<void> {
            if (auto inserted = (*store)->insert_sign_in_link(link); !inserted)
                return inserted;
            auto queued = ops::queue_signin_link(**store, customer->email, customer->name, url, now);
            if (!queued)
                return queued.error();
            return {};
        });
        if (!stored)
            return fail(response, stored.error());
    }
    page(response, 200, "Sign in", std::nullopt, portal::sign_in_content(answer));
}

void Portal::sign_in_link(httplib::Request const& request, httplib::Response& response)
{
    // Opening the link changes nothing (mail scanners open links too): a button signs in.
    Html html;
    html.raw("<h1>Sign in</h1><p>Sign in to the ").text(m_branding.name).raw(" customer portal with this link. It works once.</p>");
    html.raw(R"(<form method="post" action="/portal/sign-in/link/)").text(request.matches[1].str());
    html.raw(R"("><p><button type="submit">Sign in</button></p></form>)");
    page(response, 200, "Sign in", std::nullopt, html.take());
}

void Portal::use_sign_in_link(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto store = lease(response);
    if (!store)
        return;
    int64_t now = m_server.now();
    auto customer = (*store)->use_sign_in_link(portal_secret_hash(request.matches[1].str()), now);
    if (!customer)
        return fail(response, customer.error());
    if (!*customer) {
        portal::SignInForm answer;
        answer.email_links = email_links();
        answer.error = "this sign-in link was used already or has expired (a link works once, within 15 minutes); "
                       "ask for a new one below, or sign in with your license key";
        return page(response, 410, "Sign in", std::nullopt, portal::sign_in_content(answer));
    }
    auto started = m_sessions.start(**store, **customer, "email", request, response, now);
    if (!started)
        return fail(response, started.error());
    redirect(response, "/portal/licenses");
}

void Portal::sign_out(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto store = lease(response);
    if (!store)
        return;
    auto who = signed_in(**store, request, response, &*form);
    if (!who)
        return;
    httplib::Response ended;
    if (auto done = m_sessions.end(**store, who->session, request, ended, m_server.now()); !done)
        return fail(response, done.error(), who);
    redirect(response, "/portal/");
    response.set_header("Set-Cookie", ended.get_header_value("Set-Cookie"));
}

void Portal::licenses(httplib::Request const& request, httplib::Response& response)
{
    auto store = lease(response);
    if (!store)
        return;
    auto who = signed_in(**store, request, response);
    if (!who)
        return;
    int64_t now = m_server.now();
    db::LicenseFilter filter;
    filter.customer_id = who->customer.id;
    filter.now = now;
    auto licenses = (*store)->list_licenses(filter);
    if (!licenses)
        return fail(response, licenses.error(), who);
    auto products = (*store)->list_products();
    if (!products)
        return fail(response, products.error(), who);
    std::map<std::string, std::string> names;
    for (auto const& product : *products)
        names[product.id] = product.name;
    std::vector<portal::LicenseRow> rows;
    rows.reserve(licenses->size());
    for (auto& license : *licenses) {
        auto name = names[license.product_id];
        rows.push_back({ std::move(license), std::move(name) });
    }
    page(response, 200, "Your licenses", who, portal::licenses_content(who->customer.name, rows, now));
}

void Portal::license(httplib::Request const& request, httplib::Response& response)
{
    auto page = license_page(request, response);
    if (!page)
        return;
    auto versions = page->store->list_license_versions(page->license.id);
    if (!versions)
        return fail(response, versions.error(), page->who);
    auto billing = page->store->find_stripe_item_by_license(page->license.id);
    if (!billing)
        return fail(response, billing.error(), page->who);
    auto activations = page->store->list_activations(page->license.id);
    if (!activations)
        return fail(response, activations.error(), page->who);
    portal::LicenseView view { std::move(page->license), std::move(page->product), std::move(*versions), page->who.session,
        std::move(*billing), m_branding.billing_url, std::move(*activations) };
    this->page(response, 200, view.license.id, page->who, portal::license_content(view, m_server.now()));
}

void Portal::setup(httplib::Request const& request, httplib::Response& response)
{
    auto page = license_page(request, response);
    if (!page)
        return;
    auto gems = page->store->list_gem_releases(page->license.product_id);
    if (!gems)
        return fail(response, gems.error(), page->who);
    auto releases = page->store->list_releases(page->license.product_id);
    if (!releases)
        return fail(response, releases.error(), page->who);
    portal::SetupView view { std::move(page->license), std::move(page->product), base_url(request), {}, {} };
    for (auto const& gem : *gems) {
        if (std::find(view.gem_names.begin(), view.gem_names.end(), gem.gem.name) == view.gem_names.end())
            view.gem_names.push_back(gem.gem.name);
    }
    if (view.gem_names.empty())
        view.gem_names.push_back(view.product.id);
    auto facts = license_facts(view.license);
    int64_t now = m_server.now();
    for (auto const& release : *releases) {
        if (!release.yanked && decide_entitlement(facts, view.product, release, now).allowed())
            view.newest_file = release; // in released_at order: the last allowed is the newest
    }
    this->page(response, 200, "Setup", page->who, portal::setup_content(view));
}

void Portal::downloads(httplib::Request const& request, httplib::Response& response)
{
    auto page = license_page(request, response);
    if (!page)
        return;
    auto releases = page->store->list_releases(page->license.product_id);
    if (!releases)
        return fail(response, releases.error(), page->who);
    int64_t now = m_server.now();
    auto facts = license_facts(page->license);
    auto refused = license_refusal(facts, page->product, now);
    portal::DownloadsView view { std::move(page->license), std::move(page->product), std::move(refused), {} };
    for (auto it = releases->rbegin(); it != releases->rend(); ++it) {
        if (it->yanked)
            continue;
        view.rows.push_back({ *it, decide_entitlement(facts, view.product, *it, now) });
    }
    this->page(response, 200, "Downloads", page->who, portal::downloads_content(view));
}

void Portal::download_file(httplib::Request const& request, httplib::Response& response)
{
    std::optional<PresentedLicense> presented;
    if (auto page = license_page(request, response))
        presented = PresentedLicense { license_facts(page->license), page->license.customer_id };
    if (!presented)
        return;
    // The entitlement rule, the downloads log and the file's delivery of /downloads/.
    serve_release_file(m_server, request, response, *presented, presented->facts.product, request.matches[2], request.matches[3]);
}

void Portal::credentials(httplib::Request const& request, httplib::Response& response)
{
    auto page = license_page(request, response);
    if (!page)
        return;
    auto credentials = page->store->list_credentials(page->license.id);
    if (!credentials)
        return fail(response, credentials.error(), page->who);
    portal::CredentialsView view { std::move(page->license), page->product.name, std::move(*credentials), page->who.session, {}, {} };
    this->page(response, 200, "Credentials", page->who, portal::credentials_content(view));
}

void Portal::create_credential(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto page = license_page(request, response, &*form);
    if (!page)
        return;
    auto name = form->find("name");
    auto created = ops::create_credential(*page->store, page->license.id, name == form->end() ? std::string() : name->second,
        m_server.now(), PortalSessions::actor(page->who.customer.id));
    portal::CredentialsView view { std::move(page->license), page->product.name, {}, page->who.session, {}, {} };
    int status = 200;
    if (created) {
        view.created.emplace(created->record, created->secret);
    } else {
        if (created.error().kind != ErrorKind::invalid_input && created.error().kind != ErrorKind::conflict)
            return fail(response, created.error(), page->who);
        view.error = created.error().message;
        status = created.error().kind == ErrorKind::conflict ? 409 : 422;
    }
    auto credentials = page->store->list_credentials(view.license.id);
    if (!credentials)
        return fail(response, credentials.error(), page->who);
    view.credentials = std::move(*credentials);
    this->page(response, status, "Credentials", page->who, portal::credentials_content(view));
}

void Portal::revoke_credential(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto page = license_page(request, response, &*form);
    if (!page)
        return;
    std::string id = request.matches[2];
    auto credential = page->store->get_credential(id);
    if (!credential || credential->license_id != page->license.id)
        return not_found(response, page->who);
    if (!credential->revoked_at) {
        auto revoked = page->store->revoke_credential(id, m_server.now(), PortalSessions::actor(page->who.customer.id));
        if (!revoked && revoked.error().kind != ErrorKind::conflict)
            return fail(response, revoked.error(), page->who);
    }
    redirect(response, "/portal/licenses/" + page->license.id + "/credentials");
}

void Portal::deactivate(httplib::Request const& request, httplib::Response& response)
{
    auto form = read_form(request, response);
    if (!form)
        return;
    auto page = license_page(request, response, &*form);
    if (!page)
        return;
    // The store's release, as DELETE /v1/activations/{id} and `charter activation release` make
    // it ("activation.release", audited with the customer as actor), limited to this license:
    // another license's activation, another customer's included, is the unknown-page 404 and
    // nothing is released. One already released, or whose lease ended, stays as it is.
    auto released = page->store->release_activation(request.matches[2], page->license.id, m_server.now(),
        PortalSessions::actor(page->who.customer.id));
    if (!released)
        return fail(response, released.error(), page->who);
    redirect(response, "/portal/licenses/" + page->license.id + "#activations");
}

void Portal::stylesheet(httplib::Request const&, httplib::Response& response)
{
    // The URL carries a digest of the content: a changed stylesheet has a new URL.
    response.set_header("Cache-Control", "public, max-age=31536000, immutable");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(m_branding.stylesheet, "text/css; charset=utf-8");
}

void Portal::script(httplib::Request const&, httplib::Response& response)
{
    response.set_header("Cache-Control", "public, max-age=31536000, immutable");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(m_branding.script, "text/javascript; charset=utf-8");
}

}

void register_portal_routes(HttpServer& server, Add add)
{
    // Lives as long as the server: its routes hold it.
    auto portal = std::make_shared<Portal>(server);
    portal->register_routes(add);
    server.add_unrouted_handler(
        [portal](httplib::Request const& request, httplib::Response& response) { return portal->answer_unrouted(request, response); });
}

}
