#include "charter/server/http/route_table.hpp"

#include "charter/server/http/hardening.hpp"
#include "charter/server/http/http_util.hpp"

namespace charter::server {

namespace {

// "/v1/licenses/{id}" → "/v1/licenses/([^/]+)"
std::string to_regex(std::string const& pattern)
{
    std::string regex;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            i = pattern.find('}', i);
            regex += "([^/]+)";
        } else if (pattern[i] == '.') {
            regex += "\\.";
        } else {
            regex += pattern[i];
        }
    }
    return regex;
}

}

std::string RouteTable::add(std::string const& method, std::string const& pattern)
{
    m_routes.push_back({ method, pattern });
    std::string regex = to_regex(pattern);
    m_matchers.emplace_back(method, std::regex(regex));
    return regex;
}

void RouteTable::answer_unrouted(httplib::Request const& request, httplib::Response& response) const
{
    for (auto const& unrouted : m_unrouted_handlers) {
        if (unrouted(request, response))
            return;
    }
    std::string allowed;
    for (auto const& [method, regex] : m_matchers) {
        if (std::regex_match(request.path, regex) && allowed.find(method) == std::string::npos)
            allowed += (allowed.empty() ? "" : ", ") + method;
    }
    if (allowed.empty())
        return send_error(response, 404, "not_found", "no such endpoint");
    response.set_header("Allow", allowed);
    send_error(response, 405, "method_not_allowed", method_label(request.method) + " is not allowed here (allowed: "
            + allowed + ")");
}

}
