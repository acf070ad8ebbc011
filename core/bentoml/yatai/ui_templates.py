"""The web UI's HTML: Jinja2 templates (autoescaped: names, versions and docs are user data).

One small inline stylesheet, no script, no font or file from elsewhere (the UI works
offline); a viewport meta and a single-column layout keep it readable on a phone.
"""
from __future__ import annotations

from typing import Dict

_BASE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} - BentoML YataiService</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9;line-height:1.45}
header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;font-size:.9rem;opacity:.85;display:flex;gap:.6rem;align-items:center}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.4rem 0 1rem;word-break:break-all}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:#0b5cad}
table{width:100%;border-collapse:collapse;background:#fff;font-size:.95rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e1e4e8;vertical-align:top;overflow-wrap:break-word}
th{background:#eef0f3;font-weight:600}
.scroll{overflow-x:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;padding:.8rem;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
pre,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88rem}
pre{background:#1d2330;color:#e8eaed;padding:.6rem .8rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0}
form.inline{display:inline;margin:0}
input[type=search],input[type=password]{font-size:1rem;padding:.45rem .6rem;border:1px solid #b8bec7;border-radius:4px;min-width:0;flex:1}
button,.button{font:inherit;font-size:.95rem;line-height:1.3;padding:.45rem .9rem;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;box-sizing:border-box;min-height:2.3rem}
button.secondary,.button.secondary{background:#fff;color:#0b5cad}
button.danger{background:#b3261e;border-color:#b3261e}
header button{padding:.2rem .6rem;font-size:.85rem;min-height:0;background:transparent;border-color:#fff}
.row{display:flex;gap:.5rem;margin:0 0 1rem;flex-wrap:wrap;align-items:center}
.pages{display:flex;gap:1rem;margin:1rem 0;align-items:center}
.muted{color:#5f6773;font-size:.9rem}
.nw{white-space:nowrap}
.notice{background:#e6f4ea;border:1px solid #9fd3ad;padding:.6rem .8rem;margin:0 0 1rem}
.error{background:#fdecea;border:1px solid #f1aeb5;padding:.6rem .8rem;margin:0 0 1rem}
.card{background:#fff;padding:1rem;max-width:26rem;margin:2rem auto}
@media (max-width:40rem){.hide-narrow{display:none}main{padding:.75rem}table{font-size:.88rem}th,td{padding:.4rem .35rem}dl{grid-template-columns:1fr}dt{margin-top:.4rem}}
</style></head>
<body><header><a href="/">BentoML YataiService</a>
{% if role %}<span class="who">{{ role }} access
{% if logged_in %}<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button type="submit">Log out</button></form>{% endif %}</span>{% endif %}</header>
<main>{% block main %}{% endblock %}</main></body></html>
"""

_LOGIN = """{% extends "base.html" %}{% block title %}Log in{% endblock %}{% block main %}
<div class="card"><h1>Log in</h1>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<p><label for="token">Token (from the server's token file)</label></p>
<div class="row"><input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button></div></form>
<p class="muted">A read token shows the bundles; a write token may also delete them.</p></div>
{% endblock %}"""

_PAGES = """{% macro pages(what, prev_url, next_url, first, last) %}<div class="pages">
{% if prev_url %}<a class="button secondary" href="{{ prev_url }}">&larr; Previous</a>{% endif %}
<span class="muted">{% if last %}{{ what }} {{ first }}&ndash;{{ last }}{% endif %}</span>
{% if next_url %}<a class="button secondary" href="{{ next_url }}">Next &rarr;</a>{% endif %}</div>{% endmacro %}"""

_REPOSITORY = """{% extends "base.html" %}{% from "pages.html" import pages %}
{% block title %}Repository{% endblock %}{% block main %}
<h1>Repository</h1>
<form class="row" method="get" action="/"><input type="search" name="q" value="{{ q }}" placeholder="Search services by name" aria-label="Search services by name">
<button type="submit">Search</button>{% if q %}<a class="button secondary" href="/">Clear</a>{% endif %}</form>
{% if services %}<div class="scroll"><table><thead><tr><th>Service</th><th>Latest version</th><th>Versions</th><th>Last saved</th></tr></thead><tbody>
{% for s in services %}<tr><td><a href="/bundles/{{ s.name|urlencode }}">{{ s.name }}</a></td>
<td><a href="/bundles/{{ s.name|urlencode }}/{{ s.latest_version|urlencode }}">{{ s.latest_version }}</a></td>
<td>{{ s.versions }}</td><td><span class="nw">{{ s.last_saved.strftime("%Y-%m-%d") }}</span> <span class="nw">{{ s.last_saved.strftime("%H:%M") }} UTC</span></td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p class="muted">{% if q %}No service name contains &ldquo;{{ q }}&rdquo;.{% else %}No bundles yet: save one with <code>svc.save()</code>.{% endif %}</p>{% endif %}
{{ pages("Services", prev_url, next_url, first, last) }}
{% endblock %}"""

_SERVICE = """{% extends "base.html" %}{% from "pages.html" import pages %}
{% block title %}{{ name }}{% endblock %}{% block main %}
<p class="muted"><a href="/">Repository</a> / {{ name }}</p>
<h1>{{ name }}</h1>
{% if deleted %}<p class="notice">Deleted {{ name }}:{{ deleted }}.</p>{% endif %}
{% if records %}<div class="scroll"><table><thead><tr><th>Version</th><th>Created</th><th>APIs</th><th class="hide-narrow">Artifacts</th></tr></thead><tbody>
{% for r in records %}<tr><td><a href="/bundles/{{ name|urlencode }}/{{ r.version|urlencode }}">{{ r.version }}</a></td>
<td><span class="nw">{{ r.created_at.strftime("%Y-%m-%d") }}</span> <span class="nw">{{ r.created_at.strftime("%H:%M") }} UTC</span></td>
<td>{% for a in r.config.get("apis", []) %}{{ a.get("name") }}&lt;{{ a.get("input_type") }}&gt;{% if not loop.last %}, {% endif %}{% endfor %}</td>
<td class="hide-narrow">{% for a in r.config.get("artifacts", []) %}{{ a.get("name") }}&lt;{{ a.get("artifact_type") }}&gt;{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p class="muted">No version of {{ name }} is left.</p>{% endif %}
{{ pages("Versions", prev_url, next_url, first, last) }}
{% endblock %}"""

_DETAIL = """{% extends "base.html" %}{% block title %}{{ r.tag }}{% endblock %}{% block main %}
<p class="muted"><a href="/">Repository</a> / <a href="/bundles/{{ r.name|urlencode }}">{{ r.name }}</a> / {{ r.version }}</p>
<h1>{{ r.tag }}</h1>
<dl><dt>Created</dt><dd>{{ r.created_at.strftime("%Y-%m-%d %H:%M:%S") }} UTC</dd>
<dt>Size</dt><dd>{{ size }}</dd>
<dt>Python</dt><dd>{{ env.get("python_version", "?") }}</dd>
<dt>BentoML</dt><dd>{{ r.config.get("bentoml_version", "?") }}</dd>
<dt>Stored at</dt><dd><code>{{ r.uri }}</code> ({{ r.uri_type }})</dd></dl>
<h2>APIs</h2>
{% if apis %}<div class="scroll"><table><thead><tr><th>Name</th><th>Input</th><th class="hide-narrow">Output</th><th>Doc</th></tr></thead><tbody>
{% for a in apis %}<tr><td>{{ a.get("name") }}</td><td>{{ a.get("input_type") }}</td><td class="hide-narrow">{{ a.get("output_type") }}</td>
<td>{{ a.get("doc") or "" }}</td></tr>{% endfor %}</tbody></table></div>{% else %}<p class="muted">None.</p>{% endif %}
<h2>Artifacts</h2>
{% if artifacts %}<div class="scroll"><table><thead><tr><th>Name</th><th>Type</th></tr></thead><tbody>
{% for a in artifacts %}<tr><td>{{ a.get("name") }}</td><td>{{ a.get("artifact_type") }}</td></tr>{% endfor %}
</tbody></table></div>{% else %}<p class="muted">None.</p>{% endif %}
<h2>Pip requirements</h2>
{% if env.get("pip_requirements") %}<pre>{% for p in env.get("pip_requirements") %}{{ p }}
{% endfor %}</pre>{% else %}<p class="muted">None.</p>{% endif %}
<h2>Use it</h2>
{% if api_url %}<p class="muted">Once, on your machine:</p><pre>bentoml config set yatai_service.url={{ api_url }}</pre>{% endif %}
<p class="muted">Run an API once, serve it over HTTP, or copy the bundle into a folder:</p>
<pre>bentoml run {{ r.tag }} {{ apis[0].get("name") if apis else "API" }} --input='...'
bentoml serve {{ r.tag }}
bentoml retrieve {{ r.tag }} --target_dir={{ r.name }}-{{ r.version }}</pre>
{% if can_delete %}<h2>Delete</h2><p><a class="button secondary" href="/bundles/{{ r.name|urlencode }}/{{ r.version|urlencode }}/delete">Delete {{ r.tag }}&hellip;</a></p>{% endif %}
{% endblock %}"""

_CONFIRM = """{% extends "base.html" %}{% block title %}Delete {{ r.tag }}{% endblock %}{% block main %}
<p class="muted"><a href="/">Repository</a> / <a href="/bundles/{{ r.name|urlencode }}">{{ r.name }}</a> / <a href="/bundles/{{ r.name|urlencode }}/{{ r.version|urlencode }}">{{ r.version }}</a></p>
<div class="card"><h1>Delete {{ r.tag }}?</h1>
<p>Its files are removed from the repository; clients that hold a copy keep theirs. This cannot be undone.</p>
<div class="row"><form class="inline" method="post" action="/bundles/{{ r.name|urlencode }}/{{ r.version|urlencode }}/delete">
<input type="hidden" name="csrf" value="{{ csrf }}"><button class="danger" type="submit">Delete</button></form>
<a class="button secondary" href="/bundles/{{ r.name|urlencode }}/{{ r.version|urlencode }}">Cancel</a></div></div>
{% endblock %}"""

_ERROR = """{% extends "base.html" %}{% block title %}{{ code }}{% endblock %}{% block main %}
<h1>{{ title }}</h1><p class="error">{{ message }}</p><p><a href="/">Back to the repository</a></p>
{% endblock %}"""

#: The templates by name (the ``.html`` names turn Flask's autoescaping on).
TEMPLATES: Dict[str, str] = {
    "base.html": _BASE, "login.html": _LOGIN, "pages.html": _PAGES, "repository.html": _REPOSITORY,
    "service.html": _SERVICE, "detail.html": _DETAIL, "confirm.html": _CONFIRM, "error.html": _ERROR,
}
