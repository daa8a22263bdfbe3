// The frame every portal page shares, and the headers every page is answered with.

#include "pages.hpp"

namespace charter::server::portal {

void csrf_field(Html& html, db::PortalSession const& session)
{
    html.raw(R"(<input type="hidden" name="csrf" value=")").text(session.csrf_token).raw(R"(">)");
}

std::string render_page(Branding const& branding, Frame const& frame, std::string const& content)
{
    Html html;
    html.raw(R"(<!doctype html><html lang="en"><head><meta charset="utf-8">)"
             R"(<meta name="viewport" content="width=device-width, initial-scale=1"><title>)")
        .text(frame.title)
        .raw(" – ")
        .text(branding.name)
        .raw(R"(</title><link rel="stylesheet" href=")")
        .text(branding.stylesheet_url)
        .raw(R"("><script src=")")
        .text(branding.script_url)
        .raw(R"(" defer></script></head><body><a class="skip" href="#main">Skip to content</a>)"
             R"(<header class="site"><div class="bar"><a href="/portal/">)");
    if (branding.logo_url)
        html.raw(R"(<img src=")").text(*branding.logo_url).raw(R"(" alt="">)");
    html.text(branding.name).raw(" customer portal</a>");
    if (frame.session) {
        html.raw(R"(<nav aria-label="Account"><a href="/portal/licenses">Licenses</a><span>)")
            .text(frame.customer_name)
            .raw(R"(</span><form class="inline" method="post" action="/portal/sign-out">)");
        csrf_field(html, *frame.session);
        html.raw(R"(<button type="submit">Sign out</button></form></nav>)");
    }
    html.raw(R"(</div></header><main id="main">)").raw(content).raw("</main><footer>");
    if (branding.support)
        html.raw("Questions about your license? Write to ").text(*branding.support).raw(".");
    else
        html.text(branding.name);
    html.raw("</footer></body></html>");
    return html.take();
}

void send_page(httplib::Response& response, Branding const& branding, int status, std::string html)
{
    response.status = status;
    response.set_header("Content-Security-Policy", branding.content_security_policy);
    response.set_header("X-Frame-Options", "DENY");
    response.set_header("X-Content-Type-Options", "nosniff");
    // Page URLs name license ids (and a sign-in link its token): never sent to another site.
    // Not no-referrer: under it, the browser sends "Origin: null" with our own forms.
    response.set_header("Referrer-Policy", "same-origin");
    response.set_header("Cache-Control", "no-store");
    response.set_content(std::move(html), "text/html; charset=utf-8");
}

std::string not_found_content()
{
    return "<h1>Not found</h1><p>There is no such page among yours. "
           R"(<a href="/portal/licenses">See your licenses</a>.</p>)";
}

}
