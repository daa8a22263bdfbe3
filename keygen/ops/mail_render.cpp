#include "charter/keygen/ops/mail_render.hpp"

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/public_url.hpp"
#include "charter/utf8.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <ctime>
#include <fstream>
#include <sstream>

namespace charter::ops {

namespace {

using Json = nlohmann::json;

struct BuiltIn {
    char const* kind;
    char const* text;
};

// The built-in templates: a "Subject:" line, an empty line, the text. docs/mail.md shows them.
constexpr BuiltIn built_in_templates[] = {
    { "issued", R"(Subject: Your {{product_name}} license key

Hello {{customer_name}},

here is your license key for {{product_name}} (license {{license_id}}):

{{key}}

It is valid until {{expires_at}}; updates are included until {{updates_until}}.

To install with Bundler, run once on each machine:

    {{bundle_config}}

and add to your Gemfile:

{{gemfile_source}}

Your downloads: {{downloads_url}}

{{vendor}}
)" },
    { "renewed", R"(Subject: Your {{product_name}} license is renewed until {{expires_at}}

Hello {{customer_name}},

your {{product_name}} license {{license_id}} is renewed.

{{changes}}

Your new license key:

{{key}}

Give it to Bundler in place of the old one:

    {{bundle_config}}

Your downloads: {{downloads_url}}

{{vendor}}
)" },
    { "updated", R"(Subject: Your {{product_name}} license has changed

Hello {{customer_name}},

the terms of your {{product_name}} license {{license_id}} have changed:

{{changes}}

Your new license key:

{{key}}

Give it to Bundler in place of the old one:

    {{bundle_config}}

{{vendor}}
)" },
    { "suspended", R"(Subject: Your {{product_name}} license is suspended

Hello {{customer_name}},

your {{product_name}} license {{license_id}} is suspended: {{reason}}

Downloads and online checks are refused until it is reinstated. Reply to this message if you
have questions.

{{vendor}}
)" },
    { "reinstated", R"(Subject: Your {{product_name}} license is active again

Hello {{customer_name}},

your {{product_name}} license {{license_id}} is active again, until {{expires_at}}. Your key
and Bundler setup are unchanged.

Your downloads: {{downloads_url}}

{{vendor}}
)" },
    { "revoked", R"(Subject: Your {{product_name}} license is revoked

Hello {{customer_name}},

your {{product_name}} license {{license_id}} is revoked: {{reason}}

Its key no longer works. Reply to this message if you have questions.

{{vendor}}
)" },
    { "reminder", R"(Subject: Your {{product_name}} license ends on {{expires_at}}

Hello {{customer_name}},

your {{product_name}} license {{license_id}} ends on {{expires_at}}, in {{days_left}} days.
Renew it to keep receiving updates and downloads.

{{vendor}}
)" },
    { "signin_link", R"(Subject: Sign in to {{vendor}}

Hello {{customer_name}},

open this link to sign in (it works once, for a short time):

{{link}}

If you did not ask to sign in, ignore this message.

{{vendor}}
)" },
};

std::optional<std::string> read_template_file(std::filesystem::path const& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string date_or(std::optional<int64_t> const& time, char const* otherwise)
{
    return time ? format::format_date(*time) : std::string(otherwise);
}

std::string time_text(Json const& value)
{
    if (value.is_string()) {
        auto text = value.get<std::string>();
        return text.size() >= 10 ? text.substr(0, 10) : text;
    }
    return "none";
}

// The lines of "what changed" from the change's details (its audit row's).
std::string describe_changes(std::string const& kind, Json const& details)
{
    std::string lines;
    auto line = [&](std::string const& text) { lines += (lines.empty() ? "" : "\n") + std::string("- ") + text; };
    if (kind == "renewed") {
        line("ends: " + time_text(details.value("previous_expires_at", Json())) + " -> " + time_text(details.value("expires_at", Json())));
        if (details.value("previous_updates_until", Json()) != details.value("updates_until", Json()))
            line("updates until: " + time_text(details.value("previous_updates_until", Json())) + " -> "
                + time_text(details.value("updates_until", Json())));
        if (details.contains("plan") && details["plan"].is_string())
            line("plan: " + details["plan"].get<std::string>());
    } else if (kind == "updated" && details.contains("changed") && details["changed"].is_object()) {
        for (auto const& [name, value] : details["changed"].items()) {
            if (name == "entitlements") {
                std::string list;
                for (auto const& entitlement : value)
                    list += (list.empty() ? "" : ", ") + entitlement.get<std::string>();
                line("entitlements: " + (list.empty() ? std::string("none") : list));
            } else if (name == "expires_at") {
                line("ends: " + time_text(value));
            } else if (name == "updates_until") {
                line("updates until: " + time_text(value));
            } else if (value.is_string()) {
                line(name + ": " + value.get<std::string>());
            } else {
                line(name + ": " + value.dump());
            }
        }
    }
    return lines;
}

std::string html_escape(std::string_view text)
{
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

bool is_ascii_printable(std::string_view text)
{
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f)
            return false;
    }
    return true;
}

std::string base64(std::string_view data)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        uint32_t n = (uint32_t(uint8_t(data[i])) << 16) | (uint32_t(uint8_t(data[i + 1])) << 8) | uint8_t(data[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (i + 1 == data.size()) {
        uint32_t n = uint32_t(uint8_t(data[i])) << 16;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == data.size()) {
        uint32_t n = (uint32_t(uint8_t(data[i])) << 16) | (uint32_t(uint8_t(data[i + 1])) << 8);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

// RFC 2047 encoded-words (UTF-8, B), each at most 75 characters and never splitting a UTF-8
// sequence, separated by CRLF SP (a fold: the words join again without the space).
std::string encoded_words(std::string_view text)
{
    constexpr size_t max_bytes = 45; // 60 base64 characters + "=?UTF-8?B??=" = 72
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.size(), start + max_bytes);
        while (end < text.size() && end > start && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
            --end;
        if (!out.empty())
            out += "\r\n ";
        out += "=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=";
        start = end;
    }
    return out;
}

// A header's text value: as it is when short printable ASCII, else encoded-words.
std::string header_text(std::string_view text)
{
    if (is_ascii_printable(text) && text.size() <= 60)
        return std::string(text);
    return encoded_words(text);
}

// A display name: a quoted string when printable ASCII, else encoded-words.
std::string display_name(std::string_view name)
{
    if (is_ascii_printable(name) && name.size() <= 60) {
        std::string quoted = "\"";
        for (char c : name) {
            if (c == '"' || c == '\\')
                quoted += '\\';
            quoted += c;
        }
        return quoted + "\"";
    }
    return encoded_words(name);
}

std::string mailbox(std::optional<std::string> const& name, std::string const& address)
{
    if (!name || name->empty())
        return "<" + address + ">";
    return display_name(*name) + " <" + address + ">";
}

// Quoted-printable (RFC 2045): CRLF line ends, soft breaks before 76 characters.
std::string quoted_printable(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    size_t column = 0;
    auto put = [&](std::string const& piece) {
        if (column + piece.size() > 75) {
            out += "=\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\n') {
            out += "\r\n";
            column = 0;
            continue;
        }
        if (byte == '\r')
            continue;
        bool line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
        bool plain = (byte >= 33 && byte <= 126 && byte != '=') || ((byte == ' ' || byte == '\t') && !line_end);
        // A '.' opening a line is encoded so that no line is a lone "." (SMTP's end of data).
        if (byte == '.' && column == 0)
            plain = false;
        if (plain)
            put(std::string(1, char(byte)));
        else
            put(std::string { '=', hex[byte >> 4], hex[byte & 15] });
    }
    return out;
}

std::string address_domain(std::string const& address)
{
    auto at = address.rfind('@');
    return at == std::string::npos ? std::string("localhost") : address.substr(at + 1);
}

}

Result<std::map<std::string, std::string>> mail_values(db::Store& store, db::MailMessage const& message,
    MailRenderSettings const& settings)
{
    std::map<std::string, std::string> values;
    auto details = Json::parse(message.details_json, nullptr, false);
    if (!details.is_object())
        details = Json::object();
    auto issuer = store.get_setting("issuer");
    if (!issuer)
        return issuer.error();
    values["vendor"] = issuer->value_or("");
    values["customer_email"] = message.recipient;
    values["customer_name"] = message.recipient_name.empty() ? message.recipient : message.recipient_name;
    values["public_url"] = settings.public_url;
    values["link"] = details.value("link", "");
    values["reason"] = details.contains("reason") && details["reason"].is_string() ? details["reason"].get<std::string>()
                                                                                     : std::string("no reason was given");
    values["changes"] = describe_changes(message.kind, details);
    values["days_left"] = "";
    values["remind_before"] = details.value("remind_before", "");
    std::string host = public_url_host(settings.public_url);
    values["bundler_host"] = host;
    values["downloads_url"] = settings.public_url + "/v1/downloads";
    values["rubygems_source"] = settings.public_url + "/rubygems/";
    for (auto const* name : { "license_id", "product_id", "product_name", "key", "expires_at", "updates_until", "version",
             "bundle_config", "gemfile_source" })
        values[name] = "";
    if (!message.license_id)
        return values;

    auto license = store.get_license(*message.license_id);
    if (!license)
        return license.error();
    auto product = store.get_product(license->product_id);
    if (!product)
        return product.error();
    std::string key = license->token;
    auto expires_at = license->expires_at;
    auto updates_until = license->updates_until;
    int64_t version = message.license_version.value_or(license->version);
    if (version != license->version) {
        auto versions = store.list_license_versions(license->id);
        if (!versions)
            return versions.error();
        bool found = false;
        for (auto const& each : *versions) {
            if (each.version == version) {
                key = each.token;
                expires_at = each.expires_at;
                updates_until = each.updates_until;
                found = true;
            }
        }
        if (!found)
            return make_error(ErrorKind::not_found, "license " + license->id + " has no version " + std::to_string(version));
    }
    values["license_id"] = license->id;
    values["product_id"] = product->id;
    values["product_name"] = product->name.empty() ? product->id : product->name;
    values["key"] = key;
    values["version"] = std::to_string(version);
    values["expires_at"] = date_or(expires_at, "never (it does not end)");
    values["updates_until"] = date_or(updates_until, "its end");
    if (expires_at) {
        int64_t seconds = *expires_at - message.created_at;
        values["days_left"] = std::to_string(seconds > 0 ? (seconds + 86399) / 86400 : 0);
    }
    values["bundle_config"] = "bundle config set --global " + host + " license:" + key;
    values["gemfile_source"] = "source \"" + settings.public_url + "/rubygems/\" do\n  gem \"" + product->id + "\"\nend";
    return values;
}

Result<std::string> fill_template(std::string_view text, std::map<std::string, std::string> const& values, bool html,
    std::string_view source)
{
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        auto open = text.find("{{", at);
        if (open == std::string_view::npos) {
            out += text.substr(at);
            break;
        }
        out += text.substr(at, open - at);
        auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos)
            return make_error(ErrorKind::invalid_input, std::string(source) + " has a \"{{\" without \"}}\"; close the placeholder");
        auto name = std::string(text.substr(open + 2, close - open - 2));
        while (!name.empty() && name.front() == ' ')
            name.erase(name.begin());
        while (!name.empty() && name.back() == ' ')
            name.pop_back();
        auto value = values.find(name);
        if (value == values.end()) {
            std::string known;
            for (auto const& [each, ignored] : values)
                known += (known.empty() ? "" : ", ") + each;
            return make_error(ErrorKind::invalid_input, std::string(source) + " uses the placeholder {{" + name
                    + "}}, which does not exist; use one of " + known);
        }
        out += html ? html_escape(value->second) : value->second;
        at = close + 2;
    }
    return out;
}

Result<RenderedMail> render_mail(db::Store& store, db::MailMessage const& message, MailRenderSettings const& settings)
{
    std::optional<std::string> text;
    std::string source;
    auto file = settings.templates_dir / (message.kind + ".txt");
    if (!settings.templates_dir.empty()) {
        text = read_template_file(file);
        source = file.string();
    }
    if (!text) {
        for (auto const& built_in : built_in_templates) {
            if (message.kind == built_in.kind)
                text = built_in.text;
        }
        source = "the built-in " + message.kind + " template";
    }
    if (!text)
        return make_error(ErrorKind::invalid_input, "no template for mail of kind \"" + message.kind + "\"");
    if (!is_valid_utf8(*text))
        return make_error(ErrorKind::invalid_input, source + " is not valid UTF-8; save it as UTF-8");
    if (!text->starts_with("Subject:"))
        return make_error(ErrorKind::invalid_input, source + " must start with a \"Subject: …\" line, then an empty line, then the text");
    auto values = mail_values(store, message, settings);
    if (!values)
        return values.error();
    auto line_end = text->find('\n');
    auto subject_line = text->substr(8, line_end == std::string::npos ? std::string::npos : line_end - 8);
    std::string body = line_end == std::string::npos ? std::string() : text->substr(line_end + 1);
    if (body.starts_with("\r\n"))
        body.erase(0, 2);
    else if (body.starts_with("\n"))
        body.erase(0, 1);
    RenderedMail rendered;
    auto subject = fill_template(subject_line, *values, false, source);
    if (!subject)
        return subject.error();
    // The subject is one line whatever the values hold.
    for (char c : *subject) {
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        rendered.subject += c;
    }
    while (!rendered.subject.empty() && rendered.subject.front() == ' ')
        rendered.subject.erase(rendered.subject.begin());
    auto filled = fill_template(body, *values, false, source);
    if (!filled)
        return filled.error();
    rendered.text = std::move(*filled);
    if (!settings.templates_dir.empty()) {
        auto html_file = settings.templates_dir / (message.kind + ".html");
        if (auto html = read_template_file(html_file)) {
            if (!is_valid_utf8(*html))
                return make_error(ErrorKind::invalid_input, html_file.string() + " is not valid UTF-8; save it as UTF-8");
            auto filled_html = fill_template(*html, *values, true, html_file.string());
            if (!filled_html)
                return filled_html.error();
            rendered.html = std::move(*filled_html);
        }
    }
    return rendered;
}

Result<void> check_mail_address(std::string_view address, std::string_view what)
{
    auto bad = [&](std::string const& why) {
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + std::string(address) + "\" " + why);
    };
    if (address.empty() || address.size() > 320)
        return bad("is not an email address (empty or longer than 320 bytes)");
    for (char c : address) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f)
            return bad("has a space, a control character or a non-ASCII character; charter sends to ASCII addresses only");
        if (c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')' || c == '\\' || c == '[' || c == ']')
            return bad("is not a plain address local@domain");
    }
    auto at = address.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size() || address.find('@', at + 1) != std::string_view::npos)
        return bad("is not an email address local@domain");
    auto domain = address.substr(at + 1);
    if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
        return bad("has a domain that is not a host name");
    return {};
}

std::string rfc5322_date(int64_t unix_seconds)
{
    std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm parts {};
    gmtime_r(&time, &parts);
    static constexpr std::array<char const*, 7> days { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static constexpr std::array<char const*, 12> months { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
        "Nov", "Dec" };
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[size_t(parts.tm_wday)], parts.tm_mday,
        months[size_t(parts.tm_mon)], parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec);
    return buffer;
}

Result<std::string> compose_mail(MailHeaders const& headers, RenderedMail const& body)
{
    if (auto checked = check_mail_address(headers.from, "the sender (CHARTER_MAIL_FROM)"); !checked)
        return checked.error();
    if (auto checked = check_mail_address(headers.to, "the recipient"); !checked)
        return checked.error();
    if (headers.reply_to) {
        if (auto checked = check_mail_address(*headers.reply_to, "the reply-to address (CHARTER_MAIL_REPLY_TO)"); !checked)
            return checked.error();
    }
    for (auto const* text : { &headers.to_name, &headers.subject }) {
        if (!is_valid_utf8(*text) || text->find_first_of("\r\n") != std::string::npos)
            return make_error(ErrorKind::invalid_input, "a header value holds a line break or invalid UTF-8; refused");
    }
    if (headers.from_name && (!is_valid_utf8(*headers.from_name) || headers.from_name->find_first_of("\r\n") != std::string::npos))
        return make_error(ErrorKind::invalid_input, "the sender's name holds a line break or invalid UTF-8; refused");
    std::string out;
    out += "From: " + mailbox(headers.from_name, headers.from) + "\r\n";
    out += "To: " + mailbox(headers.to_name, headers.to) + "\r\n";
    if (headers.reply_to)
        out += "Reply-To: <" + *headers.reply_to + ">\r\n";
    out += "Subject: " + header_text(headers.subject) + "\r\n";
    out += "Date: " + rfc5322_date(headers.date) + "\r\n";
    out += "Message-ID: " + headers.message_id + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Auto-Submitted: auto-generated\r\n";
    auto text_part = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + quoted_printable(body.text);
    if (!body.html) {
        out += text_part;
    } else {
        // "=_" never occurs in quoted-printable text, so the boundary cannot occur in a part.
        std::string boundary = "=_charter_" + std::to_string(headers.date);
        out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
        out += "--" + boundary + "\r\n" + text_part + "\r\n";
        out += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + quoted_printable(*body.html) + "\r\n";
        out += "--" + boundary + "--\r\n";
    }
    if (!out.ends_with("\r\n"))
        out += "\r\n";
    return out;
}

std::string mail_message_id(std::string const& id, std::string const& from)
{
    return "<" + id + "@" + address_domain(from) + ">";
}

}
