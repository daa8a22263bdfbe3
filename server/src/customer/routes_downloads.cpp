// Customer downloads, authenticated by the license key: the list of entitled releases, the
// files themselves (streamed in fixed memory, single-range requests, digests), and release
// uploads for the vendor (admin token, scope "upload").

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/admin_tokens.hpp"
#include "charter/keygen/ops/artifact_store.hpp"
#include "charter/keygen/ops/json_views.hpp"
#include "charter/keygen/ops/releases.hpp"
#include "charter/server/admin/idempotency.hpp"
#include "charter/server/customer/downloads.hpp"
#include "charter/server/customer/entitlement.hpp"
#include "charter/server/http/guarded_server.hpp"
#include "charter/server/http/http_util.hpp"
#include "charter/server/http_server.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string_view>
#include <unistd.h>

namespace charter::server {

namespace {

using Add = std::function<void(char const*, std::string const&, HttpServer::Handler)>;

std::string download_url(db::Release const& release)
{
    return "/downloads/" + release.product_id + "/" + release.version + "/" + release.filename;
}

std::string hex_to_base64(std::string const& hex)
{
    unsigned char bytes[32];
    size_t length = 0;
    if (sodium_hex2bin(bytes, sizeof bytes, hex.c_str(), hex.size(), nullptr, &length, nullptr) != 0)
        return {};
    char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(out, sizeof out, bytes, length, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

// What a Range header asks of a file (RFC 9110 14.1.2). Only a single "bytes=" range is
// served; anything else gets the whole file, as RFC 9110 allows a server to ignore Range.
enum class RangeRequest {
    whole,
    partial,
    unsatisfiable,
};

// Digits as a byte position, saturating: a position past any file stays past it.
std::optional<int64_t> byte_position(std::string_view digits)
{
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    int64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error == std::errc::result_out_of_range)
        return std::numeric_limits<int64_t>::max();
    if (error != std::errc() || end != digits.data() + digits.size())
        return std::nullopt;
    return value;
}

/// Sets [first, last] to the bytes to send of a file of `size` bytes.
RangeRequest parse_range(std::string_view header, int64_t size, int64_t& first, int64_t& last)
{
    first = 0;
    last = size - 1;
    if (!header.starts_with("bytes=") || header.find(',') != std::string_view::npos)
        return RangeRequest::whole;
    header.remove_prefix(6);
    auto dash = header.find('-');
    if (dash == std::string_view::npos)
        return RangeRequest::whole;
    auto start = header.substr(0, dash), end = header.substr(dash + 1);
    if (start.empty()) {
        // "bytes=-N": the last N bytes; the last 0 bytes of anything are no bytes at all.
        auto suffix = byte_position(end);
        if (!suffix)
            return RangeRequest::whole;
        if (*suffix == 0 || size == 0)
            return RangeRequest::unsatisfiable;
        first = size - std::min(*suffix, size);
        return RangeRequest::partial;
    }
    auto from = byte_position(start);
    if (!from)
        return RangeRequest::whole;
    std::optional<int64_t> to;
    if (!end.empty()) {
        to = byte_position(end);
        if (!to || *to < *from)
            return RangeRequest::whole;
    }
    if (*from >= size)
        return RangeRequest::unsatisfiable;
    first = *from;
    last = to ? std::min(*to, size - 1) : size - 1;
    return RangeRequest::partial;
}

// cpp-httplib cuts every response to the parsed Range of the request (Request::ranges) after
// the handler returns, whatever the status: a 200 would become the wrong bytes, an error's JSON
// would be truncated. The download sets exactly the range it checked, or none.
void serve_ranges(httplib::Request const& request, RangeRequest range, int64_t first, int64_t last)
{
    auto& ranges = const_cast<httplib::Request&>(request).ranges;
    ranges.clear();
    if (range == RangeRequest::partial)
        ranges.emplace_back(ssize_t(first), ssize_t(last));
}

// An artifact being sent: its descriptor and the read buffer, freed with the response.
struct OpenArtifact {
    OpenArtifact(int descriptor, size_t size) : fd(descriptor), buffer(new char[size]), capacity(size) { }
    ~OpenArtifact() { ::close(fd); }
    OpenArtifact(OpenArtifact const&) = delete;
    OpenArtifact& operator=(OpenArtifact const&) = delete;

    int fd;
    std::unique_ptr<char[]> buffer;
    size_t capacity;
};

constexpr int64_t read_size = int64_t(1) << 18;

void list_downloads(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto license = server.license_auth().authenticate(request, response);
    if (!license)
        return;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    auto product = (*store)->get_product(license->facts.product);
    if (!product)
        return send_failure(response, product.error());
    int64_t now = server.now();
    // A license that may have nothing (revoked, or expired where the product keeps no access)
    // is told so rather than shown an empty list.
    if (auto refused = license_refusal(license->facts, *product, now)) {
        send_error(response, 403, outcome_code(refused->outcome), refused->reason);
        response.reason = refused->reason;
        return;
    }
    auto releases = (*store)->list_releases(license->facts.product);
    if (!releases)
        return send_failure(response, releases.error());
    Json data = Json::array();
    for (auto const& release : *releases) {
        if (release.yanked || !decide_entitlement(license->facts, *product, release, now).allowed())
            continue;
        auto json = ops::release_json(release);
        json.erase("id");
        json.erase("yanked");
        json["url"] = download_url(release);
        data.push_back(json);
    }
    send_json(response, 200, Json { { "license", license->facts.id }, { "product", license->facts.product }, { "releases", data } });
}

void download(HttpServer& server, httplib::Request const& request, httplib::Response& response)
{
    auto license = authenticate_download(server, request, response);
    if (!license)
        return;
    serve_release_file(server, request, response, *license, request.matches[1], request.matches[2], request.matches[3]);
}

void accept_release(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    AdminToken const& token, ops::ChunkSource const& body)
{
    if (!request.has_header("Content-Length"))
        return send_error(response, 411, "length_required", "send the file with a Content-Length header");
    ops::NewRelease release;
    release.product = request.matches[1];
    release.version = request.get_param_value("version");
    release.filename = request.get_param_value("filename");
    release.replace = request.get_param_value("replace") == "true";
    if (request.has_param("released_at")) {
        auto at = format::parse_rfc3339(request.get_param_value("released_at"));
        if (!at)
            return send_error(response, 400, "invalid_parameter", "released_at must be an RFC 3339 time");
        release.released_at = *at;
    }
    // A gem carries its version and filename (read once it has arrived); other files need both.
    bool gem = ops::is_gem_filename(release.filename);
    if (!gem) {
        if (auto checked = ops::check_release_names(release); !checked)
            return send_error(response, 400, "invalid_parameter", checked.error().message + " (query parameters version and filename)");
    }
    // A retried upload (same key, same query and length): the release the first one made, and
    // its body is read and dropped.
    auto replay = replay_record(201, [](db::Store& store, std::string const& id) { return store.find_release(id); }, ops::release_json);
    auto post = start_idempotent_post(server.pool(), request, response, token.id, server.now(), replay, true);
    if (!post)
        return;
    auto& store = *post->store;
    if (auto product = store.get_product(release.product); !product)
        return send_failure(response, product.error());
    auto conflict = [&]() -> Result<void> {
        if (release.replace || !store.find_release(release.product, release.version, release.filename))
            return {};
        return make_error(ErrorKind::conflict, release.product + " " + release.version + " already has " + release.filename
                + " (add ?replace=true to overwrite it)");
    };
    if (!gem) {
        if (auto free = conflict(); !free)
            return send_failure(response, free.error());
    }
    // Read before it is stored, as `charter release add` reads it: a .gem that is not a gem, or
    // one whose version exists already, leaves nothing behind.
    std::string const uploaded_as = release.filename;
    std::optional<Error> refused;
    auto check = [&](std::filesystem::path const& complete) -> Result<void> {
        auto accepted = ops::describe_release_file(release, complete, uploaded_as);
        if (accepted)
            accepted = conflict();
        if (!accepted)
            refused = accepted.error();
        return accepted;
    };
    ops::ArtifactStore artifacts(server.dir());
    // Streamed to disk while hashing: the body is never held in memory.
    auto stored = artifacts.store_stream(body, server.config().max_upload_bytes, check);
    if (!stored) {
        if (refused && refused->kind == ErrorKind::invalid_input)
            return send_error(response, 422, "invalid_gem", refused->message);
        if (refused)
            return send_failure(response, *refused);
        if (stored.error().kind == ErrorKind::invalid_input)
            return send_error(response, 413, "payload_too_large", stored.error().message);
        return send_failure(response, stored.error());
    }
    std::vector<std::string> replaced;
    std::optional<db::Release> recorded;
    auto committed = store.transaction([&]() -> Result<void> {
        auto added = ops::record_release(store, release, *stored, server.now(), db::Actor { "token:" + token.id }, &replaced);
        if (!added)
            return added.error();
        recorded = std::move(*added);
        if (auto row = post->key.record(recorded->id))
            return store.record_idempotency_key(*row);
        return {};
    });
    if (!committed) {
        if (committed.error().kind == ErrorKind::conflict && post->key.answered(store, response, replay))
            return;
        return send_failure(response, committed.error());
    }
    // The file a replaced release had goes when no other release uses it. The release is
    // stored already: a failure here leaves a file behind, and is only logged.
    if (auto removed = ops::remove_unused_artifacts(store, artifacts, replaced); !removed)
        std::cerr << "charter-server: " << removed.error().message << "\n";
    send_json(response, 201, ops::release_json(*recorded));
}

void upload_release(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    httplib::ContentReader const& reader)
{
    // The token first, before a byte of the body is read: a stranger's upload (up to
    // --max-upload bytes, at any pace) must not hold a worker thread. Its body is never read,
    // so the connection ends with the answer.
    auto token = server.admin_auth().authorize(request, response, "upload");
    if (!token)
        return close_after_answer(response);
    // An uploader's body is read to its end whatever the answer. Left on the socket, it would be
    // parsed as the next request of the connection: behind a proxy's shared upstream connection,
    // a request smuggled in by one client and answered to another. A client that sends the whole
    // body before reading (most do) also gets the answer instead of a reset connection. The
    // whole body must arrive within --upload-timeout (GuardedServer).
    bool started = false;
    ops::ChunkSource body = [&](auto const& sink) {
        started = true;
        bool accepting = true;
        bool completed = reader([&](char const* data, size_t size) {
            if (accepting)
                accepting = sink(data, size);
            return true; // after a refusal the rest is read and dropped
        });
        return completed && accepting;
    };
    accept_release(server, request, response, *token, body);
    // Without Content-Length (and chunked bodies are refused earlier) there is no body.
    if (!started && request.has_header("Content-Length"))
        body([](char const*, size_t) { return true; });
    if (GuardedServer::request_deadline_missed()) {
        send_error(response, 408, "request_timeout", "the upload did not arrive within "
                + std::to_string(server.config().upload_timeout_seconds)
                + " s (--upload-timeout); upload from closer to the server, or raise --upload-timeout");
        close_after_answer(response);
    }
}

}

char const* outcome_code(Entitlement outcome)
{
    switch (outcome) {
    case Entitlement::allowed: return "ok";
    case Entitlement::invalid_key: return "invalid_key";
    case Entitlement::revoked: return "revoked";
    case Entitlement::suspended: return "suspended";
    case Entitlement::wrong_product: return "wrong_product";
    case Entitlement::updates_ended: return "updates_ended";
    case Entitlement::expired: return "expired";
    }
    return "denied";
}

std::optional<PresentedLicense> authenticate_download(HttpServer& server, httplib::Request const& request,
    httplib::Response& response)
{
    auto license = server.license_auth().authenticate(request, response);
    if (license || (response.status != 401 && response.status != 403))
        return license;
    if (auto store = server.pool().lease()) {
        db::Download entry;
        entry.at = server.now();
        entry.remote_address = request.remote_addr;
        entry.outcome = response.status == 401 ? "unauthorized" : "not_yet_valid";
        server.downloads_log().record(**store, entry);
    }
    return std::nullopt;
}

void serve_release_file(HttpServer& server, httplib::Request const& request, httplib::Response& response,
    PresentedLicense const& presented, std::string const& product_id, std::string const& version,
    std::string const& filename)
{
    auto const* license = &presented;
    auto store = server.pool().lease();
    if (!store)
        return send_failure(response, store.error());
    db::Download entry;
    entry.at = server.now();
    entry.license_id = license->facts.id;
    entry.remote_address = request.remote_addr;
    auto release = (*store)->find_release(product_id, version, filename);
    if (!release) {
        entry.outcome = "not_found";
        server.downloads_log().record(**store, entry);
        if (release.error().kind == ErrorKind::not_found)
            return send_error(response, 404, "not_found",
                "no file " + filename + " in " + product_id + (version.empty() ? "" : " " + version));
        return send_failure(response, release.error());
    }
    entry.release_id = release->id;
    auto product = (*store)->get_product(product_id);
    if (!product)
        return send_failure(response, product.error());
    auto decision = decide_entitlement(license->facts, *product, *release, entry.at);
    if (!decision.allowed()) {
        entry.outcome = outcome_code(decision.outcome);
        server.downloads_log().record(**store, entry);
        send_error(response, 403, outcome_code(decision.outcome), decision.reason);
        // Also in the status line: clients that print no body (wget, RubyGems) print that.
        response.reason = decision.reason;
        return;
    }

    std::string etag = "\"" + release->sha256 + "\"";
    auto digest = hex_to_base64(release->sha256);
    response.set_header("ETag", etag);
    response.set_header("Accept-Ranges", "bytes");
    response.set_header("Repr-Digest", "sha-256=:" + digest + ":");
    response.set_header("Digest", "SHA-256=" + digest);
    response.set_header("Content-Disposition", content_disposition(release->filename));
    response.set_header("Cache-Control", "private, max-age=0");
    if (request.get_header_value("If-None-Match") == etag) {
        entry.outcome = "not_modified";
        server.downloads_log().record(**store, entry);
        response.status = 304;
        return;
    }

    int64_t size = release->size, first = 0, last = size - 1;
    auto range = RangeRequest::whole;
    if (request.has_header("Range"))
        range = parse_range(request.get_header_value("Range"), size, first, last);
    if (range == RangeRequest::unsatisfiable) {
        entry.outcome = "range_not_satisfiable";
        server.downloads_log().record(**store, entry);
        response.status = 416;
        response.set_header("Content-Range", "bytes */" + std::to_string(size));
        return;
    }
    // Several servers each with its own artifacts folder (docs/operations.md, "Several
    // servers"): a file uploaded elsewhere and not copied here yet is 503, which nginx passes to
    // another server. Only nothing at all is "not here": anything else is for open_artifact (or
    // nginx's disable_symlinks) to refuse.
    std::error_code ignored;
    auto artifact = ops::ArtifactStore(server.dir()).path_for(release->sha256);
    if (!std::filesystem::exists(std::filesystem::symlink_status(artifact, ignored))) {
        std::cerr << "charter-server: release file " << artifact.string() << " (" << product_id << " " << version << " "
                  << release->filename << ") is missing; copy it from the artifacts folder of the server or machine it was "
                  << "uploaded to\n";
        response.set_header("Retry-After", "5");
        return send_error(response, 503, "unavailable", "this server does not have " + release->filename + " yet; retry shortly");
    }

    bool partial = range == RangeRequest::partial;
    int64_t length = partial ? last - first + 1 : size;
    entry.bytes = length;
    entry.outcome = "ok";
    server.downloads_log().record(**store, entry);

    if (auto prefix = server.config().accel_redirect) {
        // nginx serves the file (and any Range) from its internal location over artifacts/,
        // and says Accept-Ranges itself.
        response.headers.erase("Accept-Ranges");
        response.set_header("X-Accel-Redirect", *prefix + "/" + release->sha256);
        response.status = 200;
        response.set_header("Content-Type", "application/octet-stream");
        return;
    }

    auto opened = ops::ArtifactStore(server.dir()).open_artifact(release->sha256);
    if (!opened) {
        std::cerr << "charter-server: " << opened.error().message << "\n";
        return send_error(response, 500, "internal", "the release file is missing on the server");
    }
    int fd = *opened;
    // Fixed memory whatever the size: one buffer per download, of at most read_size bytes.
    // Bigger reads mean fewer calls through the provider, each of which costs a pread, two
    // polls (cpp-httplib checks that the socket is writable before each write) and a send.
    auto source = std::make_shared<OpenArtifact>(fd, size_t(std::clamp<int64_t>(last - first + 1, 1, read_size)));
    // cpp-httplib cuts the range set here out of the whole file and sets Content-Range and
    // Content-Length itself; the provider always sees offsets into the whole file.
    serve_ranges(request, range, first, last);
    response.status = partial ? 206 : 200;
    response.set_content_provider(size_t(size), "application/octet-stream",
        [source](size_t offset, size_t wanted, httplib::DataSink& sink) {
            ssize_t got = ::pread(source->fd, source->buffer.get(), std::min(wanted, source->capacity), off_t(offset));
            if (got < 0 && errno == EINTR)
                return true; // called again for the same offset
            if (got <= 0)
                return false;
            return sink.write(source->buffer.get(), size_t(got));
        });
}

void register_download_routes(HttpServer& server, Add add)
{
    add("GET", "/v1/downloads", [&server](httplib::Request const& request, httplib::Response& response) {
        list_downloads(server, request, response);
    });
    add("GET", "/downloads/{product}/{version}/{file}", [&server](httplib::Request const& request, httplib::Response& response) {
        download(server, request, response);
    });
    server.add_streaming_route("POST", "/v1/products/{id}/releases",
        [&server](httplib::Request const& request, httplib::Response& response, httplib::ContentReader const& reader) {
            upload_release(server, request, response, reader);
        });
}

}
