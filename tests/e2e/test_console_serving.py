"""The console's files are served by the API's own Chalice app, with their types; never a 500."""

from __future__ import annotations

import json


def test_the_console_index_is_html_with_a_base_under_the_api(api):
    response = api.http.get("/console")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert b'<base href="/console/">' in response.body
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_scripts_styles_and_catalogues_have_their_content_types(api):
    for path, kind in (("/console/js/main.js", "text/javascript"), ("/console/console.css", "text/css"),
                       ("/console/i18n/fr.json", "application/json"), ("/console/js/pages/inbox.js", "text/javascript")):
        response = api.http.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith(kind), path


def test_unknown_or_crafted_console_paths_are_a_404_in_the_error_shape(api):
    for path in ("/console/nothing.js", "/console/..%2Fapp.py", "/console/js/x.exe",
                 "/console/.hidden", "/console/a/b/c.js", "/console/__init__.py"):
        response = api.http.get(path)
        assert response.status_code in (403, 404), path
        if response.status_code == 404:
            assert json.loads(response.body)["error"]["code"] == "not_found", path
    # Dot segments resolve before routing: this is /app.py, outside the console, so the API's own
    # unknown-route answer (and never the file).
    response = api.http.get("/console/js/../../app.py")
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "no_such_route"


def test_the_config_says_how_staff_sign_in_on_this_stage(api):
    response = api.http.get("/console/config.json")
    assert json.loads(response.body) == {"stage": "test", "signin": "local"}
