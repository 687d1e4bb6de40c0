"""The pseudonymisation key: where it may come from and what is refused."""

from __future__ import annotations

import stat

import pytest

from anonymiser.keys import DEMO_KEY_PREFIX, MIN_KEY_BYTES, KeyProblem, PseudonymKey, load_key

SECRET = "0123456789abcdef" * 4  # 64 characters, synthetic


def key_file(tmp_path, content: str | bytes = SECRET, mode: int = 0o600):
    path = tmp_path / "hmac.key"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(mode)
    return path


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_from_environment():
    assert load_key({"ISTV_HMAC_KEY": f" {SECRET}\n"}).secret == SECRET.encode()


def test_environment_key_wins_over_key_file(tmp_path):
    path = key_file(tmp_path, "f" * 64)
    env = {"ISTV_HMAC_KEY": SECRET, "ISTV_HMAC_KEY_FILE": str(path)}
    assert load_key(env).secret == SECRET.encode()


def test_key_file_with_mode_600_is_accepted(tmp_path):
    path = key_file(tmp_path, SECRET + "\n")
    assert load_key({"ISTV_HMAC_KEY_FILE": str(path)}).secret == SECRET.encode()


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    path = key_file(tmp_path, mode=mode)
    with pytest.raises(KeyProblem) as caught:
        load_key({"ISTV_HMAC_KEY_FILE": str(path)})
    assert f"chmod 600 {path}" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_missing_key_file_is_refused_with_how_to_make_one(tmp_path):
    path = tmp_path / "absent.key"
    with pytest.raises(KeyProblem) as caught:
        load_key({"ISTV_HMAC_KEY_FILE": str(path)})
    assert str(path) in str(caught.value)
    assert "openssl rand -hex 32" in str(caught.value)


def test_no_key_at_all_is_refused_with_how_to_make_one():
    with pytest.raises(KeyProblem) as caught:
        load_key({})
    message = str(caught.value)
    assert "No pseudonymisation key" in message
    assert "openssl rand -hex 32" in message
    assert "ISTV_HMAC_KEY_FILE" in message


def test_blank_environment_key_counts_as_missing():
    with pytest.raises(KeyProblem, match="No pseudonymisation key"):
        load_key({"ISTV_HMAC_KEY": ""})


def test_short_key_is_refused(tmp_path):
    short = "x" * (MIN_KEY_BYTES - 1)
    with pytest.raises(KeyProblem, match=f"shorter than {MIN_KEY_BYTES} bytes"):
        load_key({"ISTV_HMAC_KEY": short})
    with pytest.raises(KeyProblem, match="shorter than"):
        load_key({"ISTV_HMAC_KEY_FILE": str(key_file(tmp_path, short))})
    assert load_key({"ISTV_HMAC_KEY": "x" * MIN_KEY_BYTES}).secret == b"x" * MIN_KEY_BYTES


def test_demo_key_is_made_only_in_demo_dir_with_mode_600_and_reused(tmp_path):
    demo_dir = tmp_path / "demo"
    first = load_key({}, demo_dir=demo_dir)
    path = demo_dir / "hmac.key"
    assert path.is_file()
    assert mode_of(path) == 0o600
    assert first.secret.startswith(DEMO_KEY_PREFIX)
    assert len(first.secret) >= MIN_KEY_BYTES

    second = load_key({}, demo_dir=demo_dir)
    assert second.secret == first.secret
    assert [p.name for p in demo_dir.iterdir()] == ["hmac.key"]


def test_demo_dir_is_not_used_when_a_real_key_is_given(tmp_path):
    demo_dir = tmp_path / "demo"
    assert load_key({"ISTV_HMAC_KEY": SECRET}, demo_dir=demo_dir).secret == SECRET.encode()
    assert not demo_dir.exists()


def test_demo_key_is_refused_outside_demo_mode(tmp_path):
    demo_dir = tmp_path / "demo"
    demo_key = load_key({}, demo_dir=demo_dir)
    with pytest.raises(KeyProblem, match="demo key"):
        load_key({"ISTV_HMAC_KEY_FILE": str(demo_dir / "hmac.key")})
    with pytest.raises(KeyProblem, match="demo key"):
        load_key({"ISTV_HMAC_KEY": demo_key.secret.decode()})


def test_repr_never_shows_the_secret():
    key = PseudonymKey(SECRET.encode())
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert SECRET not in text
        assert SECRET[:16] not in text
        assert key.key_id in text


def test_key_id_is_stable_short_and_not_the_secret():
    key = PseudonymKey(SECRET.encode())
    assert key.key_id == PseudonymKey(SECRET.encode()).key_id
    assert key.key_id != PseudonymKey(("f" * 64).encode()).key_id
    assert len(key.key_id) == 12
    assert key.key_id not in SECRET
    assert SECRET[:12] != key.key_id


def test_key_from_the_airflow_connection_when_no_env_or_file(monkeypatch):
    import json

    secret = "k" * 40
    monkeypatch.setenv("AIRFLOW_CONN_ISTV_HMAC_KEY",
                       json.dumps({"conn_type": "generic", "password": secret}))
    key = load_key({})
    assert key.secret == secret.encode()
    assert secret not in repr(key)
