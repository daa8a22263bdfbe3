#pragma once
// The routes charter-server serves, in OpenAPI form (/v1/licenses/{id}), and the answer to a
// request that none matched: a handler that claims the path (the RubyGems source asks for a
// license on every path under /rubygems/), else 405 with Allow when the path is served for
// another method, else 404.

#include <httplib.h>

#include <functional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace charter::server {

struct RouteInfo {
    std::string method;
    std::string pattern; // OpenAPI-style, e.g. /v1/licenses/{id}
};

class RouteTable {
public:
    /// Sees a request no route matched (any method); returns true when it has answered.
    using UnroutedHandler = std::function<bool(httplib::Request const&, httplib::Response&)>;

    /// Records `pattern` for `method`; returns the regular expression cpp-httplib matches the
    /// path with ("/v1/licenses/{id}" → "^/v1/licenses/([^/]+)$", without the anchors).
    std::string add(std::string const& method, std::string const& pattern);
    void add_unrouted_handler(UnroutedHandler handler) { m_unrouted_handlers.push_back(std::move(handler)); }
    std::vector<RouteInfo> const& routes() const { return m_routes; }

    /// Answers a request that no route matched: 404, or 405 with Allow, unless an unrouted
    /// handler answered it.
    void answer_unrouted(httplib::Request const& request, httplib::Response& response) const;

private:
    std::vector<RouteInfo> m_routes;
    std::vector<std::pair<std::string, std::regex>> m_matchers; // method, path
    std::vector<UnroutedHandler> m_unrouted_handlers;
};

}
