#pragma once
// Small helpers for JSON over HTTP: the error shape of docs/api.md
// ({"error":{"code":"…","message":"…"}}), reading a JSON body with field-level errors, and
// mapping a Result's ErrorKind to a status.

#include "charter/result.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace charter::server {

using Json = nlohmann::ordered_json;

void send_json(httplib::Response& response, int status, Json const& body);
void send_error(httplib::Response& response, int status, std::string const& code, std::string const& message);
/// 400, 404, 409, 401/403, 500 …: the status for a failed operation. Internal and I/O
/// failures get a generic message (details go to the log, not the client).
void send_failure(httplib::Response& response, Error const& error);

/// The request body as a JSON object. On failure an error response (411/415/400) is set and
/// nullopt returned. `required`: a body must be present.
std::optional<Json> read_json_body(httplib::Request const& request, httplib::Response& response, bool required = true);

/// `attachment` with the file's name for any client (RFC 6266): `filename` in plain ASCII
/// (other characters as '_'), and `filename*` with the exact UTF-8 name percent-encoded.
std::string content_disposition(std::string const& filename);

/// Standard base64 with padding (RFC 4648 §4), as in HTTP Basic credentials.
std::optional<std::string> decode_base64(std::string_view text);

/// Field readers: on a wrong type they set a 400 naming the field and return false.
class FieldReader {
public:
    /// `prefix` names the object in messages ("customer." for a nested one).
    FieldReader(Json const& object, httplib::Response& response, std::string prefix = {})
        : m_object(object)
        , m_response(response)
        , m_prefix(std::move(prefix))
    {
    }

    bool string(char const* name, std::optional<std::string>& out);
    bool integer(char const* name, std::optional<int64_t>& out);
    bool boolean(char const* name, std::optional<bool>& out);
    bool strings(char const* name, std::vector<std::string>& out);
    bool string_map(char const* name, Json& out);
    /// Refuses members other than `known` (a typo in a webhook handler should not pass silently).
    bool only(std::initializer_list<char const*> known);

private:
    bool wrong(char const* name, char const* expected);

    Json const& m_object;
    httplib::Response& m_response;
    std::string m_prefix;
};

}
