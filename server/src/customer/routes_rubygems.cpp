// The private RubyGems source under /rubygems/ (docs/rubygems.md): the compact index Bundler
// reads, the legacy Marshal index `gem install` reads, and the .gem files, each answered
// with exactly the releases the presented license is entitled to.
//
// Indexes are computed once per change of the releases (the database's generation counter)
// and per set of visible releases, then shared by every request with the same set. Which set a
// license sees is worked out once per entitlement class (entitlement_class): a request
// costs the license check, one counter read and a lookup.

#include "charter/keygen/ops/compression.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "charter/server/customer/downloads.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/customer/gem_index.hpp"
#include "charter/server/customer/md5.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string_view>

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

/// Whether a document also keeps a gzipped copy of its body.
enum class Coding {
    identity,  // binary formats, gzipped or deflated already
    gzip_too,  // the text indexes
};

/// A body with the validators Bundler and caches use.
struct Document {
    std::string body;
    std::string gzipped; // empty when the body is not sent gzipped
    std::string etag;    // quoted MD5 hex: Bundler 2.3 compares it with the MD5 of its copy
    std::string digest;  // Repr-Digest value

    static Document of(std::string body, Coding coding = Coding::identity)
    {
        Document document;
        if (coding == Coding::gzip_too) {
            document.gzipped = ops::gzip(body);
            if (document.gzipped.size() >= body.size())
                document.gzipped.clear();
        }
        unsigned char hash[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(hash, reinterpret_cast<unsigned char const*>(body.data()), body.size());
        char base64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(base64, sizeof base64, hash, sizeof hash, sodium_base64_VARIANT_ORIGINAL);
        // Appended, not "\"" + …: GCC 12 at -O3 warns (-Wrestrict) about the concatenation.
        document.etag = '"';
        document.etag += md5_hex(body);
        document.etag += '"';
        document.digest = std::string("sha-256=:") + base64 + ":";
        document.body = std::move(body);
        return document;
    }
};

/// The quick/Marshal.4.8 gemspecs of one catalog, each built on its first request. A gemspec
/// depends on its release alone, not on the license asking (whether that license may see it is
/// checked against its view on every request), so all customers share one copy, and a change of
/// the releases (a new catalog) starts an empty cache. Bounded: `gem install` asks for the few
/// gems it installs, but a client walking every version of a large catalog must not grow it
/// without end.
class GemspecCache {
public:
    std::shared_ptr<Document const> get(db::GemMetadata const& gem)
    {
        {
            std::shared_lock lock(m_mutex);
            if (auto found = m_documents.find(gem.release_id); found != m_documents.end())
                return found->second;
        }
        auto document = std::make_shared<Document const>(Document::of(ops::zlib_deflate(marshal_gemspec(gem))));
        std::lock_guard lock(m_mutex);
        if (m_documents.size() >= max_documents || m_bytes >= max_bytes) {
            m_documents.clear();
            m_bytes = 0;
        }
        auto [entry, added] = m_documents.emplace(gem.release_id, document);
        if (added)
            m_bytes += document->body.size();
        return entry->second;
    }

private:
    static constexpr size_t max_documents = 4096;
    static constexpr size_t max_bytes = size_t(16) << 20;

    std::shared_mutex m_mutex;
    std::map<std::string, std::shared_ptr<Document const>> m_documents; // by release id
    size_t m_bytes { 0 };
};

// Why refusals of the RubyGems source are 402 with the sentence as the reason phrase: the
// customer's Bundler and `gem` print the status line of a failed request, not its body.
// RubyGems (rubygems/remote_fetcher.rb, fetch_http) reports "bad response <reason phrase>
// <status>"; Bundler (bundler/fetcher/compact_index.rb) swallows every error of the compact
// index and falls back to the legacy index, whose failure it prints with RubyGems' message
// (bundler/fetcher/index.rb) unless that message matches /401/ or /403/, which it replaces with
// a fixed "Bad username or password" (so 401 and 403 would hide the reason). 402 ("a license is
// required") is neither, and no client treats it specially. A request without any credential
// keeps 401 with its challenge: Bundler then says "Authentication is required" and how to set
// the credential.
constexpr int refusal_status = 402;

void refuse(httplib::Response& response, EntitlementDecision const& refusal)
{
    send_error(response, refusal_status, outcome_code(refusal.outcome), refusal.reason);
    response.reason = refusal.reason;
}

// Every answer of the RubyGems source, before it is sent: a refused key (401 or 403 from the
// license check or the download rule) becomes a 402, and a refusal's sentence (the JSON
// error's message) also its reason phrase. Other answers are left as they are.
void for_rubygems_clients(httplib::Request const& request, httplib::Response& response)
{
    if (response.status < 400 || response.status == 404 || response.status == 405)
        return;
    if (response.status == 403 || (response.status == 401 && request.has_header("Authorization"))) {
        response.status = refusal_status;
        response.headers.erase("WWW-Authenticate");
    }
    if (!response.reason.empty())
        return;
    auto body = Json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_object() && body["error"].contains("message")
        && body["error"]["message"].is_string())
        response.reason = body["error"]["message"];
}

/// Every gem release of the database at one generation.
struct Catalog {
    int64_t generation { -1 };
    std::vector<db::GemRelease> gems;
    std::map<std::string, db::Product> products;
    mutable GemspecCache gemspecs; // of `gems`: lives and dies with this generation
};

/// What one set of visible releases sees.
struct View {
    std::shared_ptr<Catalog const> catalog; // owns what the pointers below point into
    Document versions;
    Document names;
    std::map<std::string, Document> info;
    Document specs, latest_specs, prerelease_specs; // gzipped Marshal
    std::map<std::string, db::GemMetadata const*> by_full_name;
};

class GemSource {
public:
    explicit GemSource(HttpServer& server) : m_server(server) { }

    /// The catalog and the view of `license`, read with `store`; on failure the response is set.
    std::shared_ptr<View const> view_for(PresentedLicense const& license, db::Store& store, httplib::Response& response)
    {
        auto read = store.releases_generation();
        if (!read) {
            send_failure(response, read.error());
            return nullptr;
        }
        int64_t now = m_server.now();
        if (license.facts.revoked || license.facts.suspended_at || (license.facts.expires_at && now > *license.facts.expires_at)) {
            if (refuse_license(license, store, *read, now, response))
                return nullptr;
        }
        // Licenses of one entitlement class see the same releases: after the first request of
        // a class at this generation, a request costs one lookup under a shared lock, not the
        // rule over every release of the catalog.
        std::string generation = std::to_string(*read);
        std::string class_key = generation + ' ' + entitlement_class(license.facts, now);
        {
            std::shared_lock lock(m_mutex);
            if (auto found = m_views_by_class.find(class_key); found != m_views_by_class.end())
                return found->second;
        }
        auto catalog = current_catalog(store, *read, response);
        if (!catalog)
            return nullptr;
        std::string key = generation;
        std::vector<db::GemRelease const*> visible;
        if (auto product = catalog->products.find(license.facts.product); product != catalog->products.end()) {
            for (auto const& gem : catalog->gems) {
                if (gem.release.product_id != license.facts.product || gem.release.yanked)
                    continue;
                if (!decide_entitlement(license.facts, product->second, gem.release, now).allowed())
                    continue;
                visible.push_back(&gem);
                key += ' ';
                key += gem.release.id;
            }
        }
        std::lock_guard lock(m_mutex);
        // Bounded: entitlement sets and classes are few (products × distinct updates_until and
        // expiry), but a cap keeps a pathological mix from growing without end.
        if (m_views.size() >= 512 || m_views_by_class.size() >= 4096) {
            m_views.clear();
            m_views_by_class.clear();
        }
        auto found = m_views.find(key);
        // Classes that see the same set share one view: each index is built once per set.
        auto view = found != m_views.end() ? found->second : build_view(catalog, visible);
        m_views.emplace(key, view);
        m_views_by_class.emplace(class_key, view);
        return view;
    }

    /// The gem release with this filename, visible or not (the download path applies the
    /// entitlement rule and logs the refusal): of `product` when it has one, else of another
    /// product (refused there as `wrong_product`, as /downloads/ refuses a release of another
    /// product), else an empty release (refused as `not_found`).
    std::optional<db::Release> find_file(std::string const& product, std::string const& filename, httplib::Response& response)
    {
        auto store = m_server.pool().lease();
        if (!store) {
            send_failure(response, store.error());
            return std::nullopt;
        }
        auto generation = (*store)->releases_generation();
        if (!generation) {
            send_failure(response, generation.error());
            return std::nullopt;
        }
        auto catalog = current_catalog(**store, *generation, response);
        if (!catalog)
            return std::nullopt;
        db::GemRelease const* other_product = nullptr;
        for (auto const& gem : catalog->gems) {
            if (gem.release.filename != filename)
                continue;
            if (gem.release.product_id == product)
                return gem.release;
            if (!other_product)
                other_product = &gem;
        }
        if (other_product)
            return other_product->release;
        db::Release missing;
        missing.product_id = product;
        return missing;
    }

    /// Why `license`, whose view lacks the gem `name`, may have no release of it: the rule's
    /// refusal of its earliest release (of the license's product when it has one there, else
    /// of another product). nullopt for a name no product publishes here (not yanked).
    std::optional<EntitlementDecision> gem_refusal(View const& view, PresentedLicense const& license,
        std::string const& name) const
    {
        db::GemRelease const* earliest = nullptr;
        auto rank = [&](db::GemRelease const& gem) { return std::pair(gem.release.product_id != license.facts.product, gem.release.released_at); };
        for (auto const& gem : view.catalog->gems) {
            if (gem.gem.name == name && !gem.release.yanked && (!earliest || rank(gem) < rank(*earliest)))
                earliest = &gem;
        }
        if (!earliest)
            return std::nullopt;
        auto product = view.catalog->products.find(earliest->release.product_id);
        if (product == view.catalog->products.end())
            return std::nullopt;
        auto decision = decide_entitlement(license.facts, product->second, earliest->release, m_server.now());
        if (decision.allowed())
            return std::nullopt;
        return decision;
    }

    // Bundler asks the compact index for each gem by name, but when that fails it falls back to
    // the legacy index (specs.4.8.gz), which names no gem: the refusal of a gem the license asked
    // for by name a moment ago is kept, so that the legacy index answers with it (once).
    void remember_refusal(std::string const& license_id, EntitlementDecision const& refusal)
    {
        std::lock_guard lock(m_refusals_mutex);
        if (m_refusals.size() >= 10000)
            m_refusals.clear();
        m_refusals[license_id] = { refusal, std::chrono::steady_clock::now() };
    }
    std::optional<EntitlementDecision> take_recent_refusal(std::string const& license_id)
    {
        std::lock_guard lock(m_refusals_mutex);
        auto found = m_refusals.find(license_id);
        if (found == m_refusals.end())
            return std::nullopt;
        auto [refusal, at] = found->second;
        m_refusals.erase(found);
        if (std::chrono::steady_clock::now() - at > refusal_memory)
            return std::nullopt;
        return refusal;
    }

private:
    static constexpr auto refusal_memory = std::chrono::seconds(60);

    /// Refuses (402, the sentence also as the reason phrase) a license that may have nothing of
    /// its product: revoked, suspended, or expired where the product keeps no access. False when
    /// it may.
    bool refuse_license(PresentedLicense const& license, db::Store& store, int64_t generation, int64_t now,
        httplib::Response& response)
    {
        auto catalog = current_catalog(store, generation, response);
        if (!catalog)
            return true;
        auto product = catalog->products.find(license.facts.product);
        if (product == catalog->products.end())
            return false;
        auto refused = license_refusal(license.facts, product->second, now);
        if (!refused)
            return false;
        refuse(response, *refused);
        return true;
    }

    /// Every gem release at `generation` (read with `store` by the caller).
    std::shared_ptr<Catalog const> current_catalog(db::Store& store, int64_t generation, httplib::Response& response)
    {
        {
            std::shared_lock lock(m_mutex);
            if (m_catalog && m_catalog->generation == generation)
                return m_catalog;
        }
        auto catalog = std::make_shared<Catalog>();
        catalog->generation = generation;
        auto gems = store.list_gem_releases(std::nullopt);
        auto products = store.list_products();
        if (!gems || !products) {
            send_failure(response, gems ? products.error() : gems.error());
            return nullptr;
        }
        catalog->gems = std::move(*gems);
        for (auto& product : *products)
            catalog->products.emplace(product.id, std::move(product));
        std::lock_guard lock(m_mutex);
        if (!m_catalog || m_catalog->generation != catalog->generation) {
            m_catalog = catalog;
            m_views.clear();
            m_views_by_class.clear();
        }
        return m_catalog;
    }

    // /versions lines for the gems published here (not yanked) that this view has no release
    // of, so that Bundler asks for their /info/NAME and gets the refusal: Bundler asks only for
    // names listed in /versions (bundler/compact_index_client.rb, update_info), and without the
    // request a customer asking for another product's gem would only read "Could not find gem".
    // Each line names the gem with no version: "-0" is the compact index's removal of a version
    // ("0", never listed), and the checksum matches no file, so Bundler always asks. A license
    // learns the names of the vendor's other gems this way, never their versions or files.
    static std::string refused_names(Catalog const& catalog, std::map<std::string, std::string> const& visible_info)
    {
        std::set<std::string> names;
        for (auto const& gem : catalog.gems) {
            if (!gem.release.yanked && !visible_info.contains(gem.gem.name))
                names.insert(gem.gem.name);
        }
        std::string lines;
        for (auto const& name : names)
            lines += name + " -0 00000000000000000000000000000000\n";
        return lines;
    }

    static std::shared_ptr<View const> build_view(std::shared_ptr<Catalog const> catalog,
        std::vector<db::GemRelease const*> const& visible)
    {
        auto view = std::make_shared<View>();
        view->catalog = std::move(catalog);
        auto compact = build_compact_index(visible);
        compact.versions += refused_names(*view->catalog, compact.info);
        view->versions = Document::of(std::move(compact.versions), Coding::gzip_too);
        view->names = Document::of(std::move(compact.names), Coding::gzip_too);
        for (auto& [name, body] : compact.info)
            view->info.emplace(name, Document::of(std::move(body), Coding::gzip_too));
        std::vector<db::GemMetadata const*> specs;
        for (auto const* gem : visible) {
            specs.push_back(&gem->gem);
            view->by_full_name.emplace(ops::gem_full_name(gem->gem), &gem->gem);
        }
        view->specs = Document::of(ops::gzip(marshal_specs(specs, SpecsKind::released)));
        view->latest_specs = Document::of(ops::gzip(marshal_specs(specs, SpecsKind::latest)));
        view->prerelease_specs = Document::of(ops::gzip(marshal_specs(specs, SpecsKind::prerelease)));
        return view;
    }

    HttpServer& m_server;
    std::shared_mutex m_mutex; // shared on the hot path: a lookup per request
    std::shared_ptr<Catalog const> m_catalog;
    std::map<std::string, std::shared_ptr<View const>> m_views;          // generation + visible release ids
    std::map<std::string, std::shared_ptr<View const>> m_views_by_class; // generation + entitlement class
    std::mutex m_refusals_mutex;
    // By license id: the refusal of a gem asked for by name, and when.
    std::map<std::string, std::pair<EntitlementDecision, std::chrono::steady_clock::time_point>> m_refusals;
};

// Whether an Accept-Encoding header accepts gzip (RFC 9110 12.5.3): "gzip" (or "x-gzip"), else
// "*", with a q-value other than 0.
bool accepts_gzip(std::string_view header)
{
    auto trim = [](std::string_view text) {
        auto first = text.find_first_not_of(" \t");
        if (first == std::string_view::npos)
            return std::string_view();
        return text.substr(first, text.find_last_not_of(" \t") - first + 1);
    };
    std::optional<bool> gzip, any;
    while (!header.empty()) {
        auto comma = header.find(',');
        auto item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        auto semicolon = item.find(';');
        std::string coding(trim(item.substr(0, semicolon)));
        std::transform(coding.begin(), coding.end(), coding.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        auto params = semicolon == std::string_view::npos ? std::string_view() : trim(item.substr(semicolon + 1));
        bool zero = params.size() > 2 && (params.starts_with("q=") || params.starts_with("Q="))
            && params.substr(2).find_first_not_of("0.") == std::string_view::npos;
        if (coding == "gzip" || coding == "x-gzip")
            gzip = !zero;
        else if (coding == "*")
            any = !zero;
    }
    return gzip.value_or(any.value_or(false));
}

void send_document(httplib::Request const& request, httplib::Response& response, Document const& document,
    char const* content_type)
{
    auto& mutable_request = const_cast<httplib::Request&>(request);
    // cpp-httplib cuts every response to the request's parsed Range after the handler, even a
    // 200; Bundler sends "Range: bytes=N-" with its cached copy and accepts a full 200 (it
    // then checks the whole body against the ETag), so indexes always go out whole.
    mutable_request.ranges.clear();
    // The text indexes were gzipped once with the view. cpp-httplib would compress them again
    // on every request whose Accept-Encoding it finds "gzip" in (a first `bundle install`, every
    // CI run without a cache): the header is spent here, so that it never does.
    bool gzip = !document.gzipped.empty() && accepts_gzip(request.get_header_value("Accept-Encoding"));
    mutable_request.headers.erase("Accept-Encoding");
    // ETag and Repr-Digest are those of the plain body either way: Bundler checks them against
    // the file it keeps, which is the decoded body.
    response.set_header("ETag", document.etag);
    response.set_header("Repr-Digest", document.digest);
    response.set_header("Cache-Control", "private, max-age=0");
    if (!document.gzipped.empty())
        response.set_header("Vary", "Accept-Encoding");
    if (request.get_header_value("If-None-Match") == document.etag) {
        response.status = 304;
        return;
    }
    response.status = 200;
    if (gzip) {
        response.set_header("Content-Encoding", "gzip");
        response.set_content(document.gzipped, content_type);
        return;
    }
    response.set_content(document.body, content_type);
}

constexpr char const* text_type = "text/plain; charset=utf-8";
constexpr char const* binary_type = "application/octet-stream";

// Each handler: the license first (401 on every path), then the customer's view. The
// license's status and the releases' generation are read in one read transaction: on this
// path, starting transactions costs more than all the rest of the handler.
template<typename Body>
HttpServer::Handler with_view(HttpServer& server, std::shared_ptr<GemSource> source, Body body)
{
    return [&server, source = std::move(source), body](httplib::Request const& request, httplib::Response& response) {
        auto store = server.pool().lease();
        if (!store)
            return send_failure(response, store.error());
        std::shared_ptr<View const> view;
        std::optional<PresentedLicense> license;
        auto read = (*store)->read_snapshot([&]() -> Result<void> {
            license = server.license_auth().authenticate(request, response, &**store);
            if (license)
                view = source->view_for(*license, **store, response);
            return {};
        });
        if (!read)
            return send_failure(response, read.error());
        if (view)
            body(request, response, *view, *license);
    };
}

}

void register_rubygems_routes(HttpServer& server, Add add_route)
{
    auto source = std::make_shared<GemSource>(server);
    auto add = [&add_route](char const* method, std::string const& pattern, HttpServer::Handler handler) {
        add_route(method, pattern, [handler = std::move(handler)](httplib::Request const& request, httplib::Response& response) {
            handler(request, response);
            for_rubygems_clients(request, response);
        });
    };

    // RubyGems probes the source's root (HEAD) and takes anything but 200 as "no compact index";
    // a license that may have nothing is refused here too (`gem install` then asks for the
    // legacy index, refused the same way).
    add("GET", "/rubygems/", with_view(server, source, [](auto const&, auto& response, View const&, auto const&) {
        response.status = 200;
        response.set_content("Charter RubyGems source\n", text_type);
    }));
    add("GET", "/rubygems/versions", with_view(server, source, [](auto const& request, auto& response, View const& view, auto const&) {
        send_document(request, response, view.versions, text_type);
    }));
    add("GET", "/rubygems/names", with_view(server, source, [](auto const& request, auto& response, View const& view, auto const&) {
        send_document(request, response, view.names, text_type);
    }));
    // A name nobody publishes here is an empty 200: a 404 makes `gem install` with several
    // sources give up instead of trying the next. A gem published here that this license may
    // have no release of is refused with the reason (another product's, updates ended before
    // its first release, …), which the legacy index repeats (GemSource::remember_refusal).
    add("GET", "/rubygems/info/{name}",
        with_view(server, source, [source](auto const& request, auto& response, View const& view, auto const& license) {
            static Document const empty = Document::of("");
            auto found = view.info.find(request.matches[1]);
            if (found != view.info.end())
                return send_document(request, response, found->second, text_type);
            if (auto refused = source->gem_refusal(view, license, request.matches[1])) {
                source->remember_refusal(license.facts.id, *refused);
                return refuse(response, *refused);
            }
            send_document(request, response, empty, text_type);
        }));
    add("GET", "/rubygems/specs.4.8.gz",
        with_view(server, source, [source](auto const& request, auto& response, View const& view, auto const& license) {
            if (auto refused = source->take_recent_refusal(license.facts.id))
                return refuse(response, *refused);
            send_document(request, response, view.specs, binary_type);
        }));
    add("GET", "/rubygems/latest_specs.4.8.gz",
        with_view(server, source, [source](auto const& request, auto& response, View const& view, auto const& license) {
            if (auto refused = source->take_recent_refusal(license.facts.id))
                return refuse(response, *refused);
            send_document(request, response, view.latest_specs, binary_type);
        }));
    add("GET", "/rubygems/prerelease_specs.4.8.gz",
        with_view(server, source, [](auto const& request, auto& response, View const& view, auto const&) {
            send_document(request, response, view.prerelease_specs, binary_type);
        }));
    add("GET", "/rubygems/quick/Marshal.4.8/{file}",
        with_view(server, source, [](auto const& request, auto& response, View const& view, auto const&) {
            std::string file = request.matches[1];
            constexpr std::string_view suffix = ".gemspec.rz";
            auto found = file.ends_with(suffix) ? view.by_full_name.find(file.substr(0, file.size() - suffix.size()))
                                                : view.by_full_name.end();
            if (found == view.by_full_name.end())
                return send_error(response, 404, "not_found", "no gem specification " + file + " for this license");
            send_document(request, response, *view.catalog->gemspecs.get(*found->second), binary_type);
        }));
    // A file download like /downloads/: refusals before the rule are logged as there.
    add("GET", "/rubygems/gems/{file}", [&server, source](httplib::Request const& request, httplib::Response& response) {
        auto license = authenticate_download(server, request, response);
        if (!license)
            return;
        std::string filename = request.matches[1];
        auto release = source->find_file(license->facts.product, filename, response);
        if (!release)
            return;
        // Unknown files go through too, so that the downloads log records the miss.
        serve_release_file(server, request, response, *license, release->product_id, release->version, filename);
    });
    // Every other path under /rubygems/, with any method (HEAD included), asks for the license
    // as the routes do: a 404 or 405 to a stranger would tell which paths exist. With a valid
    // key the usual 404 or 405 follows.
    server.add_unrouted_handler([&server](httplib::Request const& request, httplib::Response& response) {
        if (request.path != "/rubygems" && !request.path.starts_with("/rubygems/"))
            return false;
        if (server.license_auth().authenticate(request, response))
            return false;
        for_rubygems_clients(request, response);
        return true;
    });
}

}
