#include "charter/server/portal/branding.hpp"

#include "charter/keygen/ops/admin_tokens.hpp"

namespace charter::server {

namespace {

// One small stylesheet: readable on a phone (fluid width, tables that scroll inside
// themselves, long keys that wrap), visible focus, and text contrast of at least 4.5:1 (the
// accent colour is checked for white text when the server starts).
constexpr char const* stylesheet_template = R"css(:root{--accent:ACCENT;--text:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--text);background:#fff}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header.site{background:var(--accent);color:#fff}
header.site .bar{max-width:64rem;margin:0 auto;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;justify-content:space-between}
header.site a{color:#fff;text-decoration:none;font-weight:600}
header.site img{height:2rem;vertical-align:middle;margin-right:.5rem}
header.site nav{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header.site form{margin:0}
header.site button{background:transparent;color:#fff;border:1px solid #fff;padding:.25rem .75rem}
main{max-width:64rem;margin:0 auto;padding:1rem}
footer{max-width:64rem;margin:2rem auto;padding:1rem;color:var(--muted);border-top:1px solid var(--line)}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.75rem 0 .5rem}
.tabs{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem;padding:0;list-style:none}
.tabs a{display:inline-block;padding:.25rem .75rem;border:1px solid var(--line);border-radius:1rem;text-decoration:none}
.tabs a[aria-current=page]{background:var(--accent);border-color:var(--accent);color:#fff}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}
tr.unavailable td{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem}
pre{background:var(--soft);border:1px solid var(--line);padding:.75rem;white-space:pre-wrap;word-break:break-all;margin:.5rem 0}
.secret{word-break:break-all}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=email],textarea{width:100%;max-width:40rem;padding:.5rem;border:1px solid var(--muted);border-radius:.25rem;font:inherit}
textarea{min-height:6rem;font-family:ui-monospace,monospace;font-size:.9rem}
button{font:inherit;padding:.5rem 1rem;border-radius:.25rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.quiet{background:#fff;color:var(--accent)}
.copy{margin-left:.5rem;padding:.1rem .6rem;font-size:.85rem}
.state{display:inline-block;padding:0 .5rem;border-radius:1rem;border:1px solid currentColor;font-weight:600}
.state-active{color:#116329}.state-suspended{color:#7d4e00}.state-expired,.state-revoked{color:#a40e26}
.alert{border:2px solid #a40e26;background:#fff5f5;padding:.75rem;border-radius:.25rem;margin:1rem 0}
.notice{border:2px solid var(--accent);background:var(--soft);padding:.75rem;border-radius:.25rem;margin:1rem 0}
.muted{color:var(--muted)}
.billing-failed{color:#a40e26;font-weight:600}
td.nowrap{white-space:nowrap}
form.inline{display:inline;margin:0}
)css";

// Copy buttons only: the pages are complete without it (every value is selectable text).
constexpr char const* script_text = R"js("use strict";
document.querySelectorAll("[data-copy]").forEach(function (element) {
  if (!navigator.clipboard) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "copy quiet";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy " + (element.getAttribute("data-copy") || "text"));
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(element.textContent.trim()).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    });
  });
  element.insertAdjacentElement("afterend", button);
});
)js";

std::string with_digest(std::string const& path, std::string const& content)
{
    return path + "?v=" + ops::blake2b_hex(content).substr(0, 16);
}

// "https://cdn.example.com/logo.png" → "https://cdn.example.com"
std::string origin_of(std::string const& url)
{
    auto host_start = url.find("://");
    if (host_start == std::string::npos)
        return {};
    auto path = url.find('/', host_start + 3);
    return url.substr(0, path);
}

}

Branding make_branding(ServerConfig const& config, std::string const& issuer)
{
    Branding branding;
    branding.name = config.portal_name.value_or(issuer);
    branding.logo_url = config.portal_logo_url;
    branding.accent = config.portal_accent;
    branding.support = config.portal_support;
    branding.billing_url = config.portal_billing_url;
    branding.stylesheet = stylesheet_template;
    // The accent was validated as #rgb or #rrggbb (server_config): nothing else reaches the CSS.
    branding.stylesheet.replace(branding.stylesheet.find("ACCENT"), 6, branding.accent);
    branding.stylesheet_url = with_digest("/portal/static/portal.css", branding.stylesheet);
    branding.script = script_text;
    branding.script_url = with_digest("/portal/static/portal.js", branding.script);
    std::string images = "'self'";
    if (branding.logo_url && branding.logo_url->starts_with("https://"))
        images += " " + origin_of(*branding.logo_url);
    branding.content_security_policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + images
        + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
    return branding;
}

}
