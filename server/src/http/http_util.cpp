#include "charter/server/http/http_util.hpp"

#include "charter/format/base64url.hpp"
#include "charter/format/strict_json.hpp"

namespace charter::server {

void send_json(httplib::Response& response, int status, Json const& body)
{
    response.status = status;
    response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

void send_error(httplib::Response& response, int status, std::string const& code, std::string const& message)
{
    send_json(response, status, Json { { "error", { { "code", code }, { "message", message } } } });
}

void send_failure(httplib::Response& response, Error const& error)
{
    switch (error.kind) {
    case ErrorKind::invalid_input: return send_error(response, 422, "invalid", error.message);
    case ErrorKind::not_found: return send_error(response, 404, "not_found", error.message);
    case ErrorKind::conflict: return send_error(response, 409, "conflict", error.message);
    case ErrorKind::unauthorized: return send_error(response, 401, "unauthorized", error.message);
    case ErrorKind::forbidden: return send_error(response, 403, "forbidden", error.message);
    case ErrorKind::disk_full: return send_error(response, 507, "storage_full", "the server's disk is full; nothing was changed");
    case ErrorKind::io: return send_error(response, 503, "unavailable", "the database is unavailable; nothing was changed");
    case ErrorKind::unavailable: return send_error(response, 503, "unavailable", error.message);
    case ErrorKind::version:
    case ErrorKind::internal: break;
    }
    send_error(response, 500, "internal", "internal error");
}

std::optional<Json> read_json_body(httplib::Request const& request, httplib::Response& response, bool required)
{
    if (request.body.empty()) {
        if (!required)
            return Json::object();
        if (!request.has_header("Content-Length"))
            send_error(response, 411, "length_required", "send a JSON body with a Content-Length header");
        else
            send_error(response, 400, "bad_request", "the request body is empty; send a JSON object");
        return std::nullopt;
    }
    auto type = request.get_header_value("Content-Type");
    auto base = type.substr(0, type.find(';'));
    while (!base.empty() && base.back() == ' ')
        base.pop_back();
    if (base != "application/json") {
        send_error(response, 415, "unsupported_media_type", "send the body as Content-Type: application/json");
        return std::nullopt;
    }
    auto body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
        send_error(response, 400, "malformed_json", "the request body is not valid JSON");
        return std::nullopt;
    }
    if (!body.is_object()) {
        send_error(response, 400, "malformed_json", "the request body must be a JSON object");
        return std::nullopt;
    }
    // Then the verifier's strict reader: it refuses a key given twice at any depth, which
    // nlohmann accepts keeping the last value, while a proxy or webhook that reads the first one
    // would disagree with Charter about what was asked. It runs second so that a body that is
    // not JSON at all is malformed_json even when a key repeats before the syntax error.
    std::string strict_error;
    if (!format::read_json_object(request.body, strict_error)) {
        if (strict_error.starts_with("duplicate key"))
            send_error(response, 400, "duplicate_key", "the request body has a " + strict_error
                    + "; send each field once");
        else
            send_error(response, 400, "malformed_json", "the request body is not a valid JSON object: " + strict_error);
        return std::nullopt;
    }
    return body;
}

std::string content_disposition(std::string const& filename)
{
    static char const hex[] = "0123456789ABCDEF";
    std::string ascii, encoded;
    for (size_t i = 0; i < filename.size(); ++i) {
        auto c = static_cast<unsigned char>(filename[i]);
        // RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
        bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || std::string_view("!#$&+-.^_`|~").find(char(c)) != std::string_view::npos;
        if (attr_char) {
            encoded += char(c);
        } else {
            encoded += '%';
            encoded += hex[c >> 4];
            encoded += hex[c & 0xf];
        }
        // The fallback: one '_' per character that is not printable ASCII (a UTF-8 sequence
        // is one character), and never a quote or backslash, which would end or escape the
        // quoted string.
        if (c >= 0x80) {
            if ((c & 0xc0) != 0x80)
                ascii += '_';
        } else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            ascii += '_';
        } else {
            ascii += char(c);
        }
    }
    return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

std::optional<std::string> decode_base64(std::string_view text)
{
    // Padding is optional here, as it always was: some clients leave it out.
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    return format::base64_decode_unpadded(text);
}

bool FieldReader::wrong(char const* name, char const* expected)
{
    send_error(m_response, 400, "invalid_field", "field \"" + m_prefix + name + "\" must be " + expected);
    return false;
}

bool FieldReader::string(char const* name, std::optional<std::string>& out)
{
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null())
        return true;
    if (!it->is_string())
        return wrong(name, "a string");
    out = it->get<std::string>();
    return true;
}

bool FieldReader::integer(char const* name, std::optional<int64_t>& out)
{
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null())
        return true;
    if (!it->is_number_integer())
        return wrong(name, "an integer");
    out = it->get<int64_t>();
    return true;
}

bool FieldReader::boolean(char const* name, std::optional<bool>& out)
{
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null())
        return true;
    if (!it->is_boolean())
        return wrong(name, "true or false");
    out = it->get<bool>();
    return true;
}

bool FieldReader::strings(char const* name, std::vector<std::string>& out)
{
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null())
        return true;
    if (!it->is_array())
        return wrong(name, "an array of strings");
    for (auto const& element : *it) {
        if (!element.is_string())
            return wrong(name, "an array of strings");
        out.push_back(element.get<std::string>());
    }
    return true;
}

bool FieldReader::string_map(char const* name, Json& out)
{
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null())
        return true;
    if (!it->is_object())
        return wrong(name, "an object of strings");
    for (auto const& [key, value] : it->items()) {
        if (!value.is_string())
            return wrong(name, "an object of strings");
    }
    out = *it;
    return true;
}

bool FieldReader::only(std::initializer_list<char const*> known)
{
    for (auto const& [key, value] : m_object.items()) {
        bool listed = false;
        for (auto const* name : known)
            listed = listed || key == name;
        if (!listed) {
            send_error(m_response, 400, "unknown_field", "unknown field \"" + m_prefix + key + "\"");
            return false;
        }
    }
    return true;
}

}
