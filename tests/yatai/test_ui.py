"""The web UI over real HTTP on loopback: login cookie attributes, 401/403, GET never deletes,
CSRF on every POST, escaping of user data; then the pages in headless Chromium (Playwright),
with screenshots under the test's tmp dir (``ui-*.png``) for a person to look at."""
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import textwrap
import urllib.parse

import pytest

from .conftest import READ_TOKEN, WRITE_TOKEN, client_env, save

pytestmark = pytest.mark.slow

ESCAPED_SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import PickleArtifact


    @bentoml.artifacts([PickleArtifact('model')])
    class Escaped_Svc(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            """Says <b>bold</b> & <script>alert("x")</script> to every doc."""
            return docs
    ''')
SAVE_ESCAPED = textwrap.dedent('''\
    import sys
    sys.path.insert(0, sys.argv[1])
    from escaped_svc import Escaped_Svc
    svc = Escaped_Svc()
    svc.pack("model", {"a": 1})
    print("SAVED", svc.save(version="esc-1"), flush=True)
    ''')


def request(base, method, path, cookie=None, form=None):
    """(status, headers dict, body) of one request, redirects not followed."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {}
    if cookie:
        headers["Cookie"] = f"yatai_token={cookie}"
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
    finally:
        conn.close()


def csrf_of(body):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', body).group(1)


@pytest.fixture(scope="module")
def ui_bundles(secured, tmp_path_factory, service_src):
    """Two versions of TeamText and one Escaped_Svc on the token server, saved by a writer."""
    writer = tmp_path_factory.mktemp("ui-writer")
    token = {"BENTOML__YATAI_SERVICE__TOKEN": WRITE_TOKEN}
    for version in ("ui-1", "ui-2"):
        save(service_src, writer, secured.url, version=version, **token)
    src = tmp_path_factory.mktemp("escaped-src")
    (src / "escaped_svc.py").write_text(ESCAPED_SERVICE)
    proc = subprocess.run([sys.executable, "-c", SAVE_ESCAPED, str(src)], env=client_env(writer, secured.url, **token),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return secured


def test_login_sets_an_httponly_samesite_strict_cookie(ui_bundles):
    ui = ui_bundles.ui_url
    status, headers, _ = request(ui, "GET", "/")
    assert status == 303 and headers["location"].endswith("/login")
    status, _, body = request(ui, "POST", "/login", form={"token": "not-a-token"})
    assert status == 401 and "not in the server" in body
    status, headers, _ = request(ui, "POST", "/login", form={"token": READ_TOKEN})
    assert status == 303
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"yatai_token={READ_TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    status, headers, body = request(ui, "GET", "/", cookie=READ_TOKEN)
    assert status == 200 and "TeamText" in body and "Escaped_Svc" in body
    assert "default-src 'none'" in headers["content-security-policy"]
    assert READ_TOKEN not in body
    status, _, _ = request(ui, "GET", "/", cookie="forged")
    assert status == 303


def test_user_data_is_escaped(ui_bundles):
    status, _, body = request(ui_bundles.ui_url, "GET", "/bundles/Escaped_Svc/esc-1", cookie=READ_TOKEN)
    assert status == 200
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in body
    assert "<script" not in body and "<b>bold" not in body


def test_a_read_token_cannot_delete_and_get_never_deletes(ui_bundles):
    ui = ui_bundles.ui_url
    status, _, body = request(ui, "GET", "/bundles/TeamText/ui-1", cookie=READ_TOKEN)
    assert status == 200 and "/delete" not in body
    status, _, _ = request(ui, "GET", "/bundles/TeamText/ui-1/delete", cookie=READ_TOKEN)
    assert status == 403
    status, _, body = request(ui, "GET", "/bundles/TeamText/ui-1", cookie=READ_TOKEN)
    status, _, _ = request(ui, "POST", "/bundles/TeamText/ui-1/delete", cookie=READ_TOKEN,
                           form={"csrf": csrf_of(body)})
    assert status == 403
    status, _, body = request(ui, "GET", "/bundles/TeamText/ui-1/delete", cookie=WRITE_TOKEN)
    assert status == 200 and "Delete TeamText:ui-1?" in body  # the confirmation, nothing deleted
    status, _, _ = request(ui, "POST", "/bundles/TeamText/ui-1/delete", cookie=WRITE_TOKEN, form={})
    assert status == 403, "a POST without the CSRF token is refused"
    status, _, _ = request(ui, "POST", "/bundles/TeamText/ui-1/delete", form={"csrf": csrf_of(body)})
    assert status == 401, "no cookie, no delete"
    assert ui_bundles.get_json("/api/v1/bundles/TeamText/ui-1", READ_TOKEN)["version"] == "ui-1"


def test_bad_paging_and_unknown_bundles_are_pages_not_tracebacks(ui_bundles):
    ui = ui_bundles.ui_url
    status, _, body = request(ui, "GET", "/?offset=x", cookie=READ_TOKEN)
    assert status == 400 and "offset must be an integer" in body
    status, _, body = request(ui, "GET", "/bundles/TeamText/nope-1", cookie=READ_TOKEN)
    assert status == 404 and "Traceback" not in body
    status, _, body = request(ui, "GET", "/?q=escaped", cookie=READ_TOKEN)
    assert "Escaped_Svc" in body and "TeamText" not in body
    status, _, body = request(ui, "GET", "/bundles/TeamText?limit=1", cookie=READ_TOKEN)
    assert "Next" in body and "Versions 1&ndash;1" in body
    status, _, body = request(ui, "GET", "/?limit=1", cookie=READ_TOKEN)
    assert "Services 1&ndash;1" in body and 'href="/?offset=1&amp;limit=1"' in body
    status, _, body = request(ui, "GET", "/?limit=1&offset=1", cookie=READ_TOKEN)
    assert "Services 2&ndash;2" in body and "Previous" in body


def test_without_a_token_file_the_ui_needs_no_login(yatai):
    status, _, body = request(yatai.ui_url, "GET", "/")
    assert status == 200 and "Repository" in body and "Log out" not in body
    status, headers, _ = request(yatai.ui_url, "GET", "/login")
    assert status == 303


# -- in a browser ----------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM} (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (tox env all)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
        yield browser
        browser.close()


def login(browser, ui, token, screenshot=None, **context):
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(10_000)
    page.goto(ui + "/")
    assert page.url.endswith("/login")
    if screenshot:
        page.screenshot(path=str(screenshot), full_page=True)
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(ui + "/")
    return page


def test_a_reader_browses_the_bundle(browser, ui_bundles, tmp_path):
    ui = ui_bundles.ui_url
    page = login(browser, ui, READ_TOKEN, tmp_path / "ui-login.png")
    assert page.locator("table").inner_text().count("TeamText") >= 1
    page.screenshot(path=str(tmp_path / "ui-repository.png"), full_page=True)
    page.click("text=TeamText")
    page.wait_for_url(ui + "/bundles/TeamText")
    page.screenshot(path=str(tmp_path / "ui-service.png"), full_page=True)
    page.click("text=ui-1")
    page.wait_for_url(ui + "/bundles/TeamText/ui-1")
    text = page.inner_text("main")
    for expected in ("TeamText:ui-1", "predict", "JsonInput", "clf", "PickleArtifact", "Python",
                     "bentoml serve TeamText:ui-1", "bentoml retrieve TeamText:ui-1",
                     "bentoml run TeamText:ui-1 predict"):
        assert expected in text, expected
    assert page.locator("text=Delete").count() == 0, "a read token sees no delete"
    page.screenshot(path=str(tmp_path / "ui-detail-read.png"), full_page=True)
    page.goto(ui + "/bundles/Escaped_Svc/esc-1")
    assert '<script>alert("x")</script>' in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "ui-escaped.png"), full_page=True)
    page.click("text=Log out")
    page.wait_for_url(ui + "/login")
    page.goto(ui + "/")
    assert page.url.endswith("/login"), "logged out"


def test_a_writer_deletes_with_a_confirmation(browser, ui_bundles, tmp_path):
    ui = ui_bundles.ui_url
    page = login(browser, ui, WRITE_TOKEN, tmp_path / "ui-login-phone.png",
                 viewport={"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(tmp_path / "ui-repository-phone.png"), full_page=True)
    page.goto(ui + "/bundles/TeamText/ui-2")
    page.screenshot(path=str(tmp_path / "ui-detail-phone.png"), full_page=True)
    page.click("text=Delete TeamText:ui-2")
    page.wait_for_url(ui + "/bundles/TeamText/ui-2/delete")
    assert "Delete TeamText:ui-2?" in page.inner_text("h1")
    page.screenshot(path=str(tmp_path / "ui-confirm-phone.png"), full_page=True)
    page.click("button.danger")
    page.wait_for_url(re.compile(r".*/bundles/TeamText\?deleted=ui-2$"))
    assert "Deleted TeamText:ui-2." in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "ui-deleted-phone.png"), full_page=True)
    status, _, _ = request(ui, "GET", "/bundles/TeamText/ui-2", cookie=WRITE_TOKEN)
    assert status == 404
