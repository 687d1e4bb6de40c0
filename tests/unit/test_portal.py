"""The download portal against its real app, a real SQLite portal database and audit log, and
real publications of two partners (tests/portal_fixtures.py)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import zipfile

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from exports.portal.app import create_app
from exports.portal.store import SESSIONS, USERS, open_store
from exports.portal.users import MAX_FAILURES, UNKNOWN_NAME, add_user, set_enabled
from istv.audit_log import AuditLog
from tests.portal_fixtures import (
    FAST_HASHER,
    PARTNER_A,
    PARTNER_B,
    PASSWORD,
    START,
    WEEK,
    Clock,
    csrf_from,
    portal_config,
    published_tree,
)

A_BUNDLE = f"/p/{PARTNER_A}/{WEEK.label}/v1"
B_BUNDLE = f"/p/{PARTNER_B}/{WEEK.label}/v1"


@pytest.fixture(scope="module")
def tree():
    return published_tree()


@pytest.fixture
def config(tree, tmp_path):
    return portal_config(tree, tmp_path)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(config, clock):
    with TestClient(create_app(config, clock=clock, hasher=FAST_HASHER)) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str = "alice", password: str = PASSWORD, **form):
    token = csrf_from(client.get("/sign-in").text)
    data = {"username": username, "password": password, "csrf_token": token, **form}
    return client.post("/sign-in", data=data, follow_redirects=False)


def events(config) -> list[dict]:
    log = AuditLog(config.audit_url)
    try:
        return log.portal_entries()
    finally:
        log.close()


def manifest(tree, partner: str = PARTNER_A) -> dict:
    return json.loads((tree.bundle(partner) / "manifest.json").read_text(encoding="utf-8"))


# Signing in


def test_sign_in_opens_the_users_own_listing(client, config):
    response = sign_in(client)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "istv_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/")
    assert page.url.path == f"/p/{PARTNER_A}"
    assert "Signed in as <strong>alice</strong>" in page.text
    assert "Partner A tasking meeting" in page.text
    (event,) = events(config)
    assert (event["event"], event["outcome"], event["username"], event["partner"]) == (
        "sign_in",
        "ok",
        "alice",
        PARTNER_A,
    )


def test_the_database_keeps_only_the_sha256_of_the_session_token(client, config):
    response = sign_in(client)
    token = client.cookies["istv_session"]
    engine = open_store(config.db_url)
    with engine.connect() as connection:
        (row,) = connection.execute(sa.select(SESSIONS)).all()
    engine.dispose()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(tuple(row)) and response.status_code == 303


@pytest.mark.parametrize(
    "username, password, logged",
    [("alice", "wrong password!", "alice"), ("mallory", PASSWORD, UNKNOWN_NAME)],
)
def test_a_failed_sign_in_gets_one_generic_answer_and_is_logged(
    client, config, username, password, logged
):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert "istv_session" not in client.cookies
    (event,) = events(config)
    assert (event["event"], event["outcome"], event["username"]) == (
        "sign_in_failed",
        "refused",
        logged,
    )
    assert password not in json.dumps(event, default=str)


def test_a_password_typed_as_the_username_is_kept_nowhere(client, config, tmp_path, caplog):
    typed = "Tr0ub4dor&3-Horse-Staple"  # a password typed into the username box
    caplog.set_level(logging.DEBUG)
    for _ in range(MAX_FAILURES + 1):  # failures, the lock, then a locked attempt
        assert sign_in(client, typed, PASSWORD).status_code == 401
    wrong_csrf = {"username": typed, "password": PASSWORD, "csrf_token": "x" * 43}
    assert client.post("/sign-in", data=wrong_csrf).status_code == 403
    logged = events(config)
    assert [e["event"] for e in logged] == ["sign_in_failed"] * MAX_FAILURES + [
        "sign_in_locked",
        "refused",
    ]
    assert {e["username"] for e in logged} == {UNKNOWN_NAME}
    forms = {typed, typed.lower(), typed.encode().hex(), typed.lower().encode().hex()}
    forms |= {hashlib.sha256(form.encode()).hexdigest() for form in (typed, typed.lower())}
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert {path.name for path in tmp_path.iterdir()} >= {"portal.sqlite", "audit.sqlite"}
    for form in forms:
        assert form.encode() not in stored
        assert form not in caplog.text


def test_a_disabled_user_is_refused_with_the_same_answer(client, config):
    engine = open_store(config.db_url)
    set_enabled(engine, "alice", False)
    engine.dispose()
    response = sign_in(client)
    assert response.status_code == 401 and "Wrong username or password" in response.text
    (event,) = events(config)
    assert (event["event"], event["detail"], event["partner"]) == (
        "refused",
        "user disabled",
        PARTNER_A,
    )


def test_disabling_a_signed_in_user_ends_the_session(client, config):
    sign_in(client)
    engine = open_store(config.db_url)
    set_enabled(engine, "alice", False)
    engine.dispose()
    response = client.get(A_BUNDLE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


def test_five_failures_lock_the_name_for_fifteen_minutes(client, config, clock):
    for _ in range(5):
        assert sign_in(client, password="not the password").status_code == 401
    locked = sign_in(client)  # the right password, but the name is locked
    assert locked.status_code == 401 and "Wrong username or password" in locked.text
    assert [e["event"] for e in events(config)] == ["sign_in_failed"] * 5 + ["sign_in_locked"]
    assert "locked" in events(config)[4]["detail"]
    clock.advance(minutes=15, seconds=1)
    assert sign_in(client).status_code == 303


def test_unknown_names_lock_the_same_way(client, config):
    for _ in range(6):
        sign_in(client, "mallory", "guess number one")
    assert [e["event"] for e in events(config)][-1] == "sign_in_locked"


def test_a_good_sign_in_clears_the_failure_count(client, config):
    for _ in range(4):
        sign_in(client, password="not the password")
    assert sign_in(client).status_code == 303
    client.cookies.clear()
    for _ in range(4):
        sign_in(client, password="not the password")
    assert sign_in(client).status_code == 303


def test_an_old_hash_is_replaced_at_sign_in(config, clock):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    engine = open_store(config.db_url)
    add_user(engine, "carol", PARTNER_A, PASSWORD, START, hasher=weak)
    query = sa.select(USERS.c.password_hash).where(USERS.c.username == "carol")
    with engine.connect() as connection:
        before = connection.execute(query).scalar_one()
    with TestClient(create_app(config, clock=clock)) as client:
        assert sign_in(client, "carol").status_code == 303
    with engine.connect() as connection:
        after = connection.execute(query).scalar_one()
    engine.dispose()
    assert "m=8192" in before and after != before
    assert not PasswordHasher().check_needs_rehash(after)
    assert PasswordHasher().verify(after, PASSWORD)


# CSRF


@pytest.mark.parametrize("token", [None, "", "x" * 43])
def test_sign_in_without_the_right_csrf_token_is_refused(client, config, token):
    client.get("/sign-in")
    form = {"username": "alice", "password": PASSWORD}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/sign-in", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "istv_session" not in client.cookies
    (event,) = events(config)
    assert (event["event"], event["detail"]) == ("refused", "sign-in CSRF token wrong")


def test_sign_in_without_the_csrf_cookie_is_refused(client):
    token = csrf_from(client.get("/sign-in").text)
    client.cookies.clear()
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token}
    assert client.post("/sign-in", data=form, follow_redirects=False).status_code == 403


@pytest.mark.parametrize("token", [None, "wrong"])
def test_sign_out_without_the_sessions_csrf_token_is_refused(client, config, token):
    sign_in(client)
    form = {} if token is None else {"csrf_token": token}
    assert client.post("/sign-out", data=form, follow_redirects=False).status_code == 403
    assert client.get(A_BUNDLE).status_code == 200  # still signed in
    assert events(config)[-1]["detail"] == "sign-out CSRF token wrong"


def test_sign_out_ends_the_session(client, config):
    sign_in(client)
    token = csrf_from(client.get(f"/p/{PARTNER_A}").text)
    old_cookie = client.cookies["istv_session"]
    response = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set("istv_session", old_cookie)  # a copied cookie is worthless afterwards
    assert client.get(A_BUNDLE, follow_redirects=False).status_code == 303
    assert [e["event"] for e in events(config)] == ["sign_in", "sign_out"]


# Session expiry


def test_a_session_expires_after_the_idle_time(client, config, clock):
    sign_in(client)
    clock.advance(minutes=29)
    assert client.get(A_BUNDLE).status_code == 200
    clock.advance(minutes=29)  # 58 minutes in, but only 29 idle
    assert client.get(A_BUNDLE).status_code == 200
    clock.advance(minutes=31)
    response = client.get(A_BUNDLE, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?expired=1"
    assert events(config)[-1]["event"] == "session_expired"


def test_a_session_ends_after_its_lifetime_however_busy(client, clock):
    sign_in(client)
    for _ in range(8 * 4):
        clock.advance(minutes=15)
        assert client.get(f"/p/{PARTNER_A}", follow_redirects=False).status_code == 200
    clock.advance(minutes=1)
    assert client.get(f"/p/{PARTNER_A}", follow_redirects=False).status_code == 303


# Listing and pages


def test_the_listing_shows_only_the_users_partner_with_the_manifest_checksums(client, tree):
    sign_in(client)
    page = client.get(f"/p/{PARTNER_A}").text
    own, other = manifest(tree, PARTNER_A), manifest(tree, PARTNER_B)
    for entry in own["files"]:
        assert entry["sha256"] in page and entry["path"] in page
    own_digests = {e["sha256"] for e in own["files"]}
    only_b = [e for e in other["files"] if e["sha256"] not in own_digests]
    assert only_b and not [e for e in only_b if e["sha256"] in page]
    assert PARTNER_B not in page and "Partner B" not in page
    assert f'href="{A_BUNDLE}"' in page
    assert "first publication" in page and "2026-W43" in page
    assert f">{len(own['files'])}<" in page  # the file count


def test_the_publication_page_lists_every_file_and_the_zip(client, tree):
    sign_in(client)
    page = client.get(A_BUNDLE).text
    for entry in manifest(tree)["files"]:
        assert f'href="{A_BUNDLE}/files/{entry["path"]}"' in page
        assert entry["sha256"] in page
    assert f"{PARTNER_A}_{WEEK.label}_v1.zip" in page
    assert "Partner A tasking meeting" in page


def test_pages_carry_the_security_headers(client):
    sign_in(client)
    for path in ("/sign-in", f"/p/{PARTNER_A}", A_BUNDLE):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "http" not in csp  # no external source at all
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


def test_signed_out_users_are_sent_to_sign_in(client):
    for path in ("/", f"/p/{PARTNER_A}", A_BUNDLE, f"{A_BUNDLE}/zip"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in"


# Downloads


def test_a_downloaded_file_is_exactly_the_published_bytes(client, tree, config):
    sign_in(client)
    for entry in manifest(tree)["files"]:
        response = client.get(f"{A_BUNDLE}/files/{entry['path']}")
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
        assert response.headers["content-disposition"] == f'attachment; filename="{entry["path"]}"'
    downloads = [e for e in events(config) if e["event"] == "download"]
    assert [e["file"] for e in downloads] == [e["path"] for e in manifest(tree)["files"]]
    assert all(e["requested_partner"] == PARTNER_A and e["version"] == "v1" for e in downloads)


def test_the_zip_holds_exactly_the_manifests_files_and_is_deterministic(client, tree, config):
    sign_in(client)
    first = client.get(f"{A_BUNDLE}/zip")
    assert first.status_code == 200
    disposition = f'attachment; filename="{PARTNER_A}_{WEEK.label}_v1.zip"'
    assert first.headers["content-disposition"] == disposition
    listed = manifest(tree)["files"]
    with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
        names = archive.namelist()
        assert names == sorted([e["path"] for e in listed] + ["manifest.json"])
        for entry in listed:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert (
            archive.read("manifest.json") == (tree.bundle(PARTNER_A) / "manifest.json").read_bytes()
        )
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert client.get(f"{A_BUNDLE}/zip").content == first.content
    zipped = [e for e in events(config) if e["event"] == "download_zip"]
    assert len(zipped) == 2 and hashlib.sha256(first.content).hexdigest() in zipped[0]["detail"]


def test_the_manifest_itself_can_be_downloaded(client, tree):
    sign_in(client)
    response = client.get(f"{A_BUNDLE}/files/manifest.json")
    assert response.content == (tree.bundle(PARTNER_A) / "manifest.json").read_bytes()


# Refusals


@pytest.mark.parametrize(
    "path",
    [
        f"/p/{PARTNER_B}",
        B_BUNDLE,
        f"{B_BUNDLE}/zip",
        f"{B_BUNDLE}/files/hotspots.csv",
        f"{B_BUNDLE}/files/manifest.json",
    ],
)
def test_another_partners_listing_or_files_are_refused_and_logged(client, config, path):
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 404
    assert "hotspots" not in response.text and "sha256" not in response.text
    event = events(config)[-1]
    assert (event["event"], event["outcome"], event["detail"]) == (
        "refused",
        "refused",
        "another partner's publication",
    )
    assert (event["username"], event["partner"], event["requested_partner"]) == (
        "alice",
        PARTNER_A,
        PARTNER_B,
    )


def copied(tree, tmp_path):
    """A copy of the published tree that a test may alter, and a portal config over it."""
    root = tmp_path / "copy"
    shutil.copytree(tree.root / "published", root / "published")
    (tmp_path / "db").mkdir()
    return root / "published" / PARTNER_A / WEEK.label / "v1", portal_config(
        tree, tmp_path / "db", data_root=root
    )


def test_a_file_not_in_the_manifest_is_refused_even_if_it_exists(tree, tmp_path):
    bundle, config = copied(tree, tmp_path)
    (bundle / "extra.csv").write_text("a,b\n1,2\n")
    with TestClient(create_app(config, clock=Clock(), hasher=FAST_HASHER)) as client:
        sign_in(client)
        assert client.get(f"{A_BUNDLE}/files/extra.csv").status_code == 404
        zipped = zipfile.ZipFile(io.BytesIO(client.get(f"{A_BUNDLE}/zip").content))
        assert "extra.csv" not in zipped.namelist()
    event = [e for e in events(config) if e["event"] == "refused"][-1]
    assert (event["file"], event["detail"]) == ("extra.csv", "not in the manifest")


@pytest.mark.parametrize(
    "path",
    [
        f"{A_BUNDLE}/files/..%2Fmanifest.json",
        f"{A_BUNDLE}/files/..%2F..%2F..%2F{PARTNER_B}%2F{WEEK.label}%2Fv1%2Fhotspots.csv",
        f"{A_BUNDLE}/files/%2e%2e%2f%2e%2e%2fledger.sqlite",
        f"{A_BUNDLE}/files/.hidden",
        f"{A_BUNDLE}/files/sub%2Fhotspots.csv",
        f"/p/{PARTNER_A}/..%2F..%2F{PARTNER_B}/v1/zip",
        f"/p/{PARTNER_A}/2026-w43/v1",
        f"/p/{PARTNER_A}/{WEEK.label}/v01",
        f"/p/{PARTNER_A}%2F..%2F{PARTNER_B}",
    ],
)
def test_path_traversal_and_malformed_names_are_refused(client, config, path):
    sign_in(client)
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    assert "first publication" not in response.text


def test_traversal_in_a_file_name_is_logged_as_a_refusal(client, config):
    sign_in(client)
    client.get(f"{A_BUNDLE}/files/..%2F..%2F..%2F{PARTNER_B}%2F{WEEK.label}%2Fv1%2Fhotspots.csv")
    event = events(config)[-1]
    assert (event["event"], event["detail"]) == ("refused", "not a safe file name")
    assert event["file"].startswith("../")


def test_a_file_changed_after_publication_is_refused(tree, tmp_path, caplog):
    bundle, config = copied(tree, tmp_path)
    hotspots = bundle / "hotspots.csv"
    hotspots.write_bytes(hotspots.read_bytes() + b"tampered,row\n")
    with TestClient(create_app(config, clock=Clock(), hasher=FAST_HASHER)) as client:
        sign_in(client)
        assert client.get(f"{A_BUNDLE}/files/hotspots.csv").status_code == 404
        assert client.get(f"{A_BUNDLE}/zip").status_code == 404
        assert client.get(f"{A_BUNDLE}/files/methods.csv").status_code == 200
    refused = [e for e in events(config) if e["event"] == "refused"]
    assert [e["file"] for e in refused] == ["hotspots.csv", "hotspots.csv"]
    assert all("sha256 differs" in e["detail"] for e in refused)
    address = f"{PARTNER_A}/{WEEK.label}/v1"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert [e.split(" sha256")[0] for e in errors] == [
        f"portal: {address}/hotspots.csv",
        f"portal: {address} zip:",
    ]


def test_no_secret_reaches_the_audit_log(client, config):
    sign_in(client, password="a wrong password")
    sign_in(client)
    session = client.cookies["istv_session"]
    csrf = csrf_from(client.get(f"/p/{PARTNER_A}").text)
    client.get(f"{B_BUNDLE}/zip")
    client.post("/sign-out", data={"csrf_token": csrf})
    logged = json.dumps(events(config), default=str)
    for secret in (PASSWORD, "a wrong password", session, csrf):
        assert secret not in logged
    engine = open_store(config.db_url)
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(USERS.c.password_hash)).scalars().all()
    engine.dispose()
    assert not [h for h in hashes if h in logged]


# What the bundle's own pages and pictures get


def test_the_publication_page_shows_the_charts_briefing_and_map_the_bundle_has(client, tree):
    sign_in(client)
    page = client.get(A_BUNDLE).text
    names = {e["path"] for e in manifest(tree)["files"]}
    for name in sorted(n for n in names if n.startswith("chart_") and n.endswith(".png")):
        assert f'<img src="{A_BUNDLE}/files/{name}?view=1"' in page
    if "briefing.html" in names:
        assert f'src="{A_BUNDLE}/files/briefing.html?view=1"' in page
        assert 'sandbox="allow-scripts"' in page
    if "map.html" in names:
        assert f'href="{A_BUNDLE}/files/map.html?view=1"' in page
    if not names & {"briefing.html", "map.html"}:
        assert "<iframe" not in page and "Briefing" not in page


def test_a_bundle_html_file_runs_sandboxed_and_fetches_nothing(client, tree):
    html = [e["path"] for e in manifest(tree)["files"] if e["path"].endswith(".html")]
    assert "briefing.html" in html  # every bundle with tables has its briefing
    sign_in(client)
    for name in html:
        response = client.get(f"{A_BUNDLE}/files/{name}?view=1")
        assert response.headers["content-disposition"] == f'inline; filename="{name}"'
        csp = response.headers["content-security-policy"]
        assert csp.startswith("sandbox allow-scripts; default-src 'none'")
        assert "script-src 'unsafe-inline'" in csp and "img-src data:;" in csp
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["cache-control"] == "no-store"


def test_a_configured_tile_host_is_the_only_source_a_map_may_load(tree, tmp_path):
    (tmp_path / "db").mkdir()
    config = portal_config(tree, tmp_path / "db", tile_origin="https://tiles.example.org")
    with TestClient(create_app(config, clock=Clock(), hasher=FAST_HASHER)) as client:
        sign_in(client)
        csp = client.get(f"{A_BUNDLE}/files/methods.csv").headers["content-security-policy"]
        assert "tiles.example.org" not in csp  # a CSV download keeps the page policy
        svg = [e["path"] for e in manifest(tree)["files"] if e["path"].endswith((".html", ".svg"))]
        for name in svg:
            csp = client.get(f"{A_BUNDLE}/files/{name}?view=1").headers["content-security-policy"]
            assert "img-src data: https://tiles.example.org;" in csp


def test_other_formats_are_always_downloaded_never_shown(client):
    sign_in(client)
    response = client.get(f"{A_BUNDLE}/files/methods.csv?view=1")
    assert response.headers["content-disposition"] == 'attachment; filename="methods.csv"'
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


def test_secure_cookies_use_the_host_prefix(tree, tmp_path):
    (tmp_path / "db").mkdir()
    config = portal_config(tree, tmp_path / "db", secure_cookies=True)
    app = create_app(config, clock=Clock(), hasher=FAST_HASHER)
    with TestClient(app, base_url="https://portal.example.org") as client:
        form = client.get("/sign-in")
        assert form.headers["set-cookie"].startswith("__Host-istv_sign_in=")
        assert "Secure" in form.headers["set-cookie"]
        assert form.headers["strict-transport-security"] == "max-age=31536000"
        data = {"username": "alice", "password": PASSWORD, "csrf_token": csrf_from(form.text)}
        signed = client.post("/sign-in", data=data, follow_redirects=False)
        session_cookie = next(
            c for c in signed.headers.get_list("set-cookie") if "istv_session" in c
        )
        assert session_cookie.startswith("__Host-istv_session=")
        assert "Secure" in session_cookie and "Path=/" in session_cookie
        assert "Domain" not in session_cookie
        assert client.get(f"/p/{PARTNER_A}").status_code == 200


def test_a_user_whose_partner_left_the_partners_file_is_refused(config, clock):
    engine = open_store(config.db_url)
    add_user(engine, "dave", "partner-gone", PASSWORD, START, hasher=FAST_HASHER)
    engine.dispose()
    with TestClient(create_app(config, clock=clock, hasher=FAST_HASHER)) as client:
        assert sign_in(client, "dave").status_code == 303
        response = client.get("/p/partner-gone")
        assert response.status_code == 403 and "not configured" in response.text
    event = events(config)[-1]
    assert (event["event"], event["username"], event["detail"]) == (
        "refused",
        "dave",
        "the user's partner is not in the partners file",
    )
