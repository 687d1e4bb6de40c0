"""The pseudonymisation key: where it may come from, and the rules it must pass.

Order: ISTV_HMAC_KEY (environment), then ISTV_HMAC_KEY_FILE (a file its owner alone can read),
then the password of the Airflow connection `istv_hmac_key` (e.g. from a secrets backend).
In demo mode only, a key is generated under the data root and marked as a demo key; a demo key
is refused anywhere else, as is a missing or short key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from anonymiser.airflow_keys import key_from_airflow_connection

MIN_KEY_BYTES = 32
DEMO_KEY_PREFIX = b"istv-demo-key:"
KEY_HELP = (
    "Create one with `openssl rand -hex 32 > /secure/istv-hmac.key && chmod 600 "
    "/secure/istv-hmac.key` and set ISTV_HMAC_KEY_FILE to its path (or set ISTV_HMAC_KEY, or "
    "store it as the password of the Airflow connection istv_hmac_key)."
)


class KeyProblem(Exception):
    """The key is missing, short, exposed or a demo key outside demo mode."""


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        """A short, non-secret name for the key, stored beside every pseudonym for rotation."""
        return hmac.new(self.secret, b"istv-key-id", hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:  # never print the secret
        return f"PseudonymKey(key_id={self.key_id})"


def load_key(env: dict[str, str] | None = None, demo_dir: Path | None = None) -> PseudonymKey:
    """Find and check the key; `demo_dir` (demo mode only) is where a demo key may be made."""
    env = dict(os.environ if env is None else env)
    if env.get("ISTV_HMAC_KEY"):
        secret = env["ISTV_HMAC_KEY"].strip().encode()
        origin = "ISTV_HMAC_KEY"
    elif env.get("ISTV_HMAC_KEY_FILE"):
        path = Path(env["ISTV_HMAC_KEY_FILE"])
        secret = _read_private_file(path)
        origin = str(path)
    elif (secret := key_from_airflow_connection()) is not None:
        origin = "Airflow connection istv_hmac_key"
    elif demo_dir is not None:
        secret = _demo_key(demo_dir / "hmac.key")
        origin = "demo key"
    else:
        raise KeyProblem(f"No pseudonymisation key. {KEY_HELP}")
    if secret.startswith(DEMO_KEY_PREFIX) and demo_dir is None:
        raise KeyProblem(f"{origin} holds a demo key, which only demo mode may use. {KEY_HELP}")
    if len(secret) < MIN_KEY_BYTES:
        raise KeyProblem(f"{origin}: key is shorter than {MIN_KEY_BYTES} bytes. {KEY_HELP}")
    return PseudonymKey(secret)


def _read_private_file(path: Path) -> bytes:
    if not path.is_file():
        raise KeyProblem(f"Key file {path} does not exist. {KEY_HELP}")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyProblem(
            f"Key file {path} can be read by its group or others (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {path}`."
        )
    return path.read_bytes().strip()


def _demo_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(DEMO_KEY_PREFIX + secrets.token_hex(32).encode())
    return _read_private_file(path)
