"""The portal's web app: sign in, list the partner's publications, view and download them.

Server-rendered pages with no script at all; every page and file carries security headers
(a strict CSP, nosniff, no referrer, no framing, no caching). A user sees only the partner the
portal database gives them: any other partner, period, version or file name in a URL is refused
with a 404 and an audit row, after its text has been checked and before the disk is touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from exports.portal.config import PortalConfig
from exports.portal.publications import (
    PublishedVersion,
    Refused,
    bundle_zip,
    check_address,
    content_type,
    is_safe_name,
    list_publications,
    open_publication,
    read_file,
)
from exports.portal.sessions import Session, end_session, find_session, same_token, start_session
from exports.portal.store import open_store
from exports.portal.users import LOCK_FOR, MAX_FAILURES, logged_name, sign_in
from exports.portal.views import details, summary
from istv.audit_log import AuditLog, PortalEvent
from istv.partners import load_partners

HERE = Path(__file__).resolve().parent
WRONG = (
    f"Wrong username or password. After {MAX_FAILURES} wrong attempts in a row a username is "
    f"locked for {int(LOCK_FOR.total_seconds() // 60)} minutes."
)
PAGE_CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; frame-src 'self'; img-src 'self'; "
    "style-src 'self'"
)
INLINE = ("png", "svg", "html")  # shown in the page; every other format is only downloaded
_COOKIE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
log = logging.getLogger("istv.portal")


@dataclass(frozen=True)
class Served:
    """What a download route serves from an opened publication."""

    data: bytes
    name: str  # logged, and the name the browser saves it as
    media_type: str
    note: str = ""  # the audit detail before the sha256
    inline: bool = False  # shown in the page rather than saved


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def bundle_csp(tile_origin: str | None) -> str:
    """For a bundle's own HTML (briefing, map) and SVG: inline script and style run in a
    sandbox (an opaque origin, no cookies), and nothing is fetched except map tiles from the
    one configured tile host."""
    images = "data:" + (f" {tile_origin}" if tile_origin else "")
    return (
        "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
        f"style-src 'unsafe-inline'; img-src {images}; font-src data:; "
        "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
    )


def create_app(
    config: PortalConfig,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    hasher: PasswordHasher | None = None,
) -> FastAPI:
    """The portal app over `config`; `clock` (aware UTC) is injectable for session tests."""
    engine = open_store(config.db_url)
    audit = AuditLog(config.audit_url)
    partners = {p.id: p.name for p in load_partners(config.partners_file)}
    published = config.data_root / "published"
    hasher = hasher or PasswordHasher()
    prefix = "__Host-" if config.secure_cookies else ""
    session_cookie, sign_in_cookie = f"{prefix}istv_session", f"{prefix}istv_sign_in"
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    file_csp = bundle_csp(config.tile_origin)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        engine.dispose()
        audit.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        static = request.url.path.startswith("/static/")
        headers["Cache-Control"] = "max-age=3600" if static else "no-store"
        if config.secure_cookies:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> HTMLResponse:
        title = "Not found" if error.status_code == 404 else "Request refused"
        return page("message.html", None, error.status_code, title=title, message=title + ".")

    def page(name: str, session: Session | None, status: int = 200, **context) -> HTMLResponse:
        user = session if session is not None and session.status == "ok" else None
        values = {
            "user": user,
            "csrf": user.csrf if user else "",
            "partner_name": partners.get(user.partner, "") if user else "",
        }
        html = templates.get_template(name).render({**values, **context})
        return HTMLResponse(html, status_code=status)

    def record(request: Request, event: str, outcome: str, **fields) -> None:
        client = request.client.host if request.client else ""
        audit.record_portal(PortalEvent(event=event, outcome=outcome, client=client, **fields))

    def current(request: Request) -> Session:
        session = find_session(
            engine, request.cookies.get(session_cookie), clock(), config.idle, config.lifetime
        )
        who = {"username": session.username, "partner": session.partner}
        if session.status == "expired":
            record(request, "session_expired", "ok", **who)
        elif session.status == "disabled":
            record(request, "refused", "refused", detail="user disabled", **who)
        return session

    def to_sign_in(query: str = "") -> RedirectResponse:
        response = RedirectResponse(f"/sign-in{query}", status_code=303)
        response.delete_cookie(session_cookie, path="/", secure=config.secure_cookies)
        return response

    def signed_in(request: Request) -> Session | Response:
        session = current(request)
        if session.status != "ok":
            return to_sign_in("?expired=1" if session.status == "expired" else "")
        if session.partner not in partners:
            refuse(request, session, "the user's partner is not in the partners file")
            return page(
                "message.html",
                None,
                403,
                title="No access",
                message="Your partner is not configured for downloads: ask the trust's data team.",
            )
        return session

    def refuse(
        request: Request,
        session: Session,
        reason: str,
        partner: str = "",
        period: str = "",
        version: str = "",
        file: str = "",
    ) -> HTMLResponse:
        record(
            request,
            "refused",
            "refused",
            username=session.username,
            partner=session.partner,
            requested_partner=partner,
            period=period,
            version=version,
            file=file,
            detail=reason,
        )
        log.warning("portal refused a request of %s: %s", session.username, reason)
        return page(
            "message.html",
            session,
            404,
            title="Not found",
            message="This address is not one of your partner's publications or files.",
        )

    def own(
        request: Request,
        session: Session,
        partner: str,
        period: str | None = None,
        version: str | None = None,
        name: str | None = None,
    ) -> Response | None:
        """A refusal for anything but a well-formed address of the user's own partner."""
        where = {"partner": partner, "period": period or "", "version": version or ""}
        try:
            check_address(partner, period, version)
            if name is not None and not is_safe_name(name):
                raise Refused("not a safe file name")
        except Refused as refusal:
            return refuse(request, session, refusal.reason, **where, file=name or "")
        if partner != session.partner:
            reason = "another partner's publication"
            return refuse(request, session, reason, **where, file=name or "")
        return None

    def cookie(response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name, value, path="/", httponly=True, samesite="strict", secure=config.secure_cookies
        )

    @app.get("/")
    def home(request: Request) -> Response:
        session = current(request)
        if session.status == "ok":
            return RedirectResponse(f"/p/{session.partner}", status_code=303)
        return to_sign_in()

    @app.get("/sign-in")
    def sign_in_form(request: Request, expired: str = "", signed_out: str = "") -> Response:
        if current(request).status == "ok":
            return RedirectResponse("/", status_code=303)
        message = ""
        if expired:
            message = "Your session ended. Sign in again to carry on."
        elif signed_out:
            message = "You have signed out."
        return sign_in_page(request, message=message)

    def sign_in_page(
        request: Request, status: int = 200, message: str = "", username: str = ""
    ) -> Response:
        token = request.cookies.get(sign_in_cookie, "")
        if not _COOKIE_TOKEN.fullmatch(token):
            token = secrets.token_urlsafe(32)
        response = page(
            "sign_in.html",
            None,
            status,
            title="Sign in",
            csrf=token,
            message=message,
            error=status != 200,
            username=username,
        )
        cookie(response, sign_in_cookie, token)
        return response

    @app.post("/sign-in")
    def sign_in_submit(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        if not same_token(csrf_token, request.cookies.get(sign_in_cookie)):
            name = logged_name(engine, username)  # never the text typed: it may be a password
            record(request, "refused", "refused", username=name, detail="sign-in CSRF token wrong")
            return page(
                "message.html",
                None,
                403,
                title="Form expired",
                message="The sign-in form had expired. Open the sign-in page and try again.",
            )
        result = sign_in(engine, username, password, clock(), hasher)
        who = {"username": result.username, "partner": result.partner}
        if result.status == "ok":
            if earlier := request.cookies.get(session_cookie):
                end_session(engine, earlier)  # a new sign-in always gets a new token
            token = start_session(engine, result.username, clock(), config.idle, config.lifetime)
            record(request, "sign_in", "ok", **who)
            response = RedirectResponse("/", status_code=303)
            cookie(response, session_cookie, token)
            response.delete_cookie(sign_in_cookie, path="/", secure=config.secure_cookies)
            return response
        if result.status == "locked":
            record(request, "sign_in_locked", "refused", **who, detail="name locked")
        elif result.status == "disabled":
            record(request, "refused", "refused", **who, detail="user disabled")
        else:
            detail = "wrong password" if result.partner else "unknown user or wrong password"
            if result.locked:
                detail += f"; {MAX_FAILURES} failures in a row: name locked"
            record(request, "sign_in_failed", "refused", **who, detail=detail)
        return sign_in_page(request, 401, WRONG, username=username.strip().lower()[:64])

    @app.post("/sign-out")
    def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        session = current(request)
        if session.status != "ok":
            return to_sign_in()
        if not same_token(csrf_token, session.csrf):
            record(
                request,
                "refused",
                "refused",
                username=session.username,
                partner=session.partner,
                detail="sign-out CSRF token wrong",
            )
            return page(
                "message.html",
                session,
                403,
                title="Form expired",
                message="That form had expired: use the Sign out button on this page.",
            )
        end_session(engine, session.token)
        record(request, "sign_out", "ok", username=session.username, partner=session.partner)
        return to_sign_in("?signed_out=1")

    @app.get("/p/{partner}")
    def listing(request: Request, partner: str) -> Response:
        session = signed_in(request)
        if isinstance(session, Response):
            return session
        if refusal := own(request, session, partner):
            return refusal
        rows = [summary(p) for p in list_publications(published, partner)]
        return page("publications.html", session, title="Publications", publications=rows)

    @app.get("/p/{partner}/{period}/{version}")
    def publication(request: Request, partner: str, period: str, version: str) -> Response:
        session = signed_in(request)
        if isinstance(session, Response):
            return session
        if refusal := own(request, session, partner, period, version):
            return refusal
        try:
            found = open_publication(published, partner, period, version)
        except Refused as refusal:
            return refuse(request, session, refusal.reason, partner, period, version)
        return page("publication.html", session, **details(found))

    @app.get("/p/{partner}/{period}/{version}/files/{name:path}")
    def download(
        request: Request, partner: str, period: str, version: str, name: str, view: str = ""
    ) -> Response:
        inline = bool(view) and name.rsplit(".", 1)[-1] in INLINE
        note = "shown in the page; " if inline else ""

        def file(found: PublishedVersion) -> Served:
            return Served(read_file(found, name), name, content_type(name), note, inline)

        return deliver(request, "download", partner, period, version, name, file)

    @app.get("/p/{partner}/{period}/{version}/zip")
    def download_zip(request: Request, partner: str, period: str, version: str) -> Response:
        def archive(found: PublishedVersion) -> Served:
            note = f"{len(found.files) + 1} files; "
            return Served(bundle_zip(found), found.zip_name, "application/zip", note)

        return deliver(request, "download_zip", partner, period, version, None, archive)

    def deliver(
        request: Request,
        event: str,
        partner: str,
        period: str,
        version: str,
        name: str | None,
        serve: Callable[[PublishedVersion], Served],
    ) -> Response:
        """What a file and the zip share: the user's own well-formed address, the bytes only
        as the manifest has them, a refusal or the download in the audit log with its sha256."""
        session = signed_in(request)
        if isinstance(session, Response):
            return session
        if refusal := own(request, session, partner, period, version, name):
            return refusal
        try:
            served = serve(open_publication(published, partner, period, version))
        except Refused as refusal:
            if "sha256" in refusal.reason:
                where = f"{partner}/{period}/{version}" + (" zip:" if name is None else f"/{name}")
                log.error("portal: %s %s", where, refusal)
            file = refusal.file if name is None else name
            return refuse(request, session, refusal.reason, partner, period, version, file)
        record(
            request,
            event,
            "ok",
            username=session.username,
            partner=session.partner,
            requested_partner=partner,
            period=period,
            version=version,
            file=served.name,
            detail=f"{served.note}sha256={hashlib.sha256(served.data).hexdigest()}",
        )
        return file_response(served)

    def file_response(served: Served) -> Response:
        """A bundle's own HTML and SVG get the sandboxing policy; everything else the page's."""
        disposition = "inline" if served.inline else "attachment"
        headers = {"Content-Disposition": f'{disposition}; filename="{served.name}"'}
        if served.name.endswith((".html", ".svg")):
            headers["Content-Security-Policy"] = file_csp
            headers["X-Frame-Options"] = "SAMEORIGIN"
        return Response(served.data, media_type=served.media_type, headers=headers)

    return app
