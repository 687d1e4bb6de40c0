"""Read a partner's publications for the portal: list them, and hand out files only when the
manifest names them and their bytes still have the manifest's sha256.

Every name from a URL is checked before any filesystem access: the partner id as the partners
file defines ids, the period as its canonical label, the version as vN, and file names as one
safe path segment (the delivery rules). The zip of a version is deterministic: sorted names,
fixed timestamps and permissions, so the same version always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from exports.delivery import check_segments
from exports.publish import MANIFEST
from istv.partners import ID_PATTERN, RESERVED_IDS
from istv.periods import parse_period

VERSION = re.compile(r"^v[1-9][0-9]{0,5}$")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
    "json": "application/json",
    "png": "image/png",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


class Refused(Exception):
    """The request cannot be served; `reason` goes to the audit log (never file contents)."""

    def __init__(self, reason: str, file: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.file = file


@dataclass(frozen=True)
class PublishedVersion:
    """One version folder of published/ as the portal reads it: its place and its manifest."""

    partner: str
    period: str
    version: str
    folder: Path
    manifest: dict

    @property
    def files(self) -> list[dict]:
        """The manifest's entries that are safe names (the only files ever served)."""
        return [f for f in self.manifest.get("files", []) if is_safe_name(f.get("path"))]

    def entry(self, name: str) -> dict | None:
        return next((f for f in self.files if f["path"] == name), None)

    @property
    def products(self) -> list[str]:
        names = {f.get("product") for f in self.files}
        names |= {p for f in self.files for p in f.get("products", [])}
        return sorted(n for n in names if n)

    def size(self, name: str) -> int | None:
        path = self.folder / name
        return path.stat().st_size if path.is_file() else None

    @property
    def zip_name(self) -> str:
        return f"{self.partner}_{self.period}_{self.version}.zip"


def is_safe_name(name: object) -> bool:
    try:
        check_segments(name)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def check_address(partner: str, period: str | None = None, version: str | None = None) -> None:
    """Refuse anything but a partner id, a canonical period label and a version number."""
    if not ID_PATTERN.fullmatch(partner) or partner in RESERVED_IDS:
        raise Refused("not a partner id")
    if period is not None:
        try:
            canonical = parse_period(period).label
        except ValueError:
            canonical = None
        if canonical != period:
            raise Refused("not a period label")
    if version is not None and not VERSION.fullmatch(version):
        raise Refused("not a version")


def list_publications(published: Path, partner: str) -> list[PublishedVersion]:
    """Every version of every period of `partner`, newest period first, then newest version."""
    check_address(partner)
    home = published / partner
    found = []
    if home.is_dir():
        for period_dir in home.iterdir():
            try:
                check_address(partner, period_dir.name)
            except Refused:
                continue  # staging folders and anything else that is not a period
            for version_dir in period_dir.iterdir():
                if VERSION.fullmatch(version_dir.name):
                    try:
                        found.append(open_publication(published, partner, *_names(version_dir)))
                    except Refused:
                        continue
    return sorted(
        found, key=lambda p: (parse_period(p.period).start, int(p.version[1:])), reverse=True
    )


def open_publication(published: Path, partner: str, period: str, version: str) -> PublishedVersion:
    """One version, its manifest read and checked against the folder it sits in."""
    check_address(partner, period, version)
    folder = published / partner / period / version
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise Refused("no such publication") from None
    except (OSError, ValueError):
        raise Refused("manifest.json cannot be read") from None
    if (
        not isinstance(manifest, dict)
        or (manifest.get("partner") or {}).get("id") != partner
        or (manifest.get("period") or {}).get("label") != period
        or manifest.get("version") != version
    ):
        raise Refused("manifest.json does not match its folder")
    return PublishedVersion(partner, period, version, folder, manifest)


def read_file(publication: PublishedVersion, name: str) -> bytes:
    """The bytes of a file the manifest names, checked against its sha256 (manifest.json
    itself has no checksum: it is read as published)."""
    if not is_safe_name(name):
        raise Refused("not a safe file name", name)
    if name == MANIFEST:
        return (publication.folder / MANIFEST).read_bytes()
    entry = publication.entry(name)
    if entry is None:
        raise Refused("not in the manifest", name)
    try:
        data = (publication.folder / name).read_bytes()
    except OSError:
        raise Refused("listed in the manifest but missing", name) from None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise Refused("sha256 differs from the manifest: the file changed after publication", name)
    return data


def bundle_zip(publication: PublishedVersion) -> bytes:
    """The whole version as one zip: manifest.json and every file it lists, each verified."""
    names = sorted({f["path"] for f in publication.files} | {MANIFEST})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, read_file(publication, name))
    return buffer.getvalue()


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _names(version_dir: Path) -> tuple[str, str]:
    return version_dir.parent.name, version_dir.name
