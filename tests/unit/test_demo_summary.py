"""The demo's closing summary reads what was published and delivered."""

from __future__ import annotations

import json

from istv.demo import publications_summary


def test_summary_lists_bundles_deliveries_and_audits(tmp_path):
    bundle = tmp_path / "published" / "nb-police-tasking" / "2026-W41" / "v1"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text(json.dumps({"files": []}))
    briefed = tmp_path / "published" / "nb-police-tasking" / "2026-W42" / "v1"
    briefed.mkdir(parents=True)
    (briefed / "manifest.json").write_text(json.dumps({"files": []}))
    (briefed / "briefing.pdf").write_bytes(b"%PDF-")
    sealed = tmp_path / "outbox" / "nembridge-csp" / "2026-10" / "v1"
    sealed.mkdir(parents=True)
    (sealed / "methods.csv.p7m").write_bytes(b"x")
    plain = tmp_path / "outbox" / "nb-police-tasking" / "2026-W41" / "v1"
    plain.mkdir(parents=True)
    (plain / "methods.csv").write_text("x")

    text = publications_summary({"2026-W41": "success"}, tmp_path)
    assert "nb-police-tasking/2026-W41/v1  0 files" in text
    assert "nembridge-csp/2026-10/v1  1 files, 1 sealed (.p7m)" in text
    assert "nb-police-tasking/2026-W41/v1  1 files, plain (allowed)" in text
    assert "audit of every published cell" in text
    assert f"open a tasking briefing and map: {briefed / 'briefing.html'}" in text
    assert "istv users add analyst --partner nembridge-csp; istv portal" in text
