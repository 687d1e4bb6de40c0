"""The download portal end to end: `istv users add` and `istv portal` run as a partner's data
team would run them, and Debian's headless Chromium (driven by Playwright) signs in, opens a
publication with its briefing and charts, downloads the bundle zip and signs out."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from istv.audit_log import AuditLog
from tests.portal_fixtures import PARTNER_A, PASSWORD, WEEK, published_tree
from tests.servers import require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ISTV = [str(Path(sys.executable).parent / "istv")]  # the installed console script
# The picture in docs/portal.md (synthetic data): refreshed with ISTV_UPDATE_SCREENSHOTS=1, so
# that an ordinary test run leaves the working tree unchanged.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "portal.png"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chromium():
    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The real `istv portal` on a free loopback port, with one user added by the real CLI."""
    tree = published_tree()
    folder = tmp_path_factory.mktemp("portal-e2e")
    env = {
        **os.environ,
        "ISTV_DATA_ROOT": str(tree.root),
        "ISTV_PARTNERS": str(tree.partners),
        "ISTV_PORTAL_DB": f"sqlite:///{folder / 'portal.sqlite'}",
        "ISTV_AUDIT_URL": f"sqlite:///{folder / 'audit.sqlite'}",
    }
    added = subprocess.run(
        [*ISTV, "users", "add", "alice", "--partner", PARTNER_A, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*ISTV, "portal", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"portal did not start: {server.stdout.read()}") from None
                time.sleep(0.2)
        yield {"url": f"http://127.0.0.1:{port}", "tree": tree, "audit": env["ISTV_AUDIT_URL"]}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_partner_user_signs_in_views_and_downloads_the_bundle(chromium, portal, tmp_path):
    url, tree = portal["url"], portal["tree"]
    bundle = tree.bundle(PARTNER_A)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Security Policy" in m.text else None)

    page.goto(f"{url}/")
    assert page.url == f"{url}/sign-in"
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/p/{PARTNER_A}")
    assert "Signed in as alice for Partner A tasking meeting" in page.locator("header").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Publications for Partner A tasking meeting"
    )

    page.get_by_role("link", name=WEEK.label).click()
    page.wait_for_url(f"{url}/p/{PARTNER_A}/{WEEK.label}/v1")
    for name, digest in listed.items():
        assert page.get_by_role("link", name=name, exact=True).count() == 1
        assert page.get_by_text(digest, exact=True).count() == 1
    charts = [n for n in listed if n.startswith("chart_") and n.endswith(".png")]
    for name in charts:  # every PNG chart of the bundle is shown, and has really loaded
        image = page.locator(f'img[src$="/files/{name}?view=1"]')
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), name

    if "briefing.html" in listed:  # the briefing is shown inline, in a sandboxed frame
        frame_element = page.locator("iframe.briefing")
        assert frame_element.get_attribute("sandbox") == "allow-scripts"
        briefing = frame_element.content_frame
        assert "briefing" in briefing.locator("h1").inner_text().lower()
        assert WEEK.label in briefing.locator("body").inner_text()
    else:
        assert page.locator("iframe").count() == 0
    shot = SCREENSHOT if os.environ.get("ISTV_UPDATE_SCREENSHOTS") else tmp_path / "portal.png"
    assert page.screenshot(path=str(shot)).startswith(b"\x89PNG")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all files").click()
    download = download_info.value
    assert download.suggested_filename == f"{PARTNER_A}_{WEEK.label}_v1.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    served = context.request.get(f"{url}/p/{PARTNER_A}/{WEEK.label}/v1/zip").body()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(served).hexdigest()
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == sorted([*listed, "manifest.json"])
        for name, digest in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest

    if "map.html" in listed:  # the map's inline Leaflet runs under the bundle CSP
        map_page = context.new_page()
        map_page.goto(f"{url}/p/{PARTNER_A}/{WEEK.label}/v1/files/map.html?view=1")
        map_page.wait_for_selector(".leaflet-container", timeout=10_000)
        map_page.close()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/sign-in?signed_out=1")
    assert "You have signed out." in page.locator("main").inner_text()
    page.goto(f"{url}/p/{PARTNER_A}/{WEEK.label}/v1")
    assert page.url == f"{url}/sign-in"
    context.close()

    assert violations == []
    log = AuditLog(portal["audit"])
    try:
        events = [e["event"] for e in log.portal_entries()]
    finally:
        log.close()
    assert events[0] == "sign_in" and events[-1] == "sign_out"
    assert events.count("download_zip") == 2  # the click and the check of the served bytes
    assert "refused" not in events
