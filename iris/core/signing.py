"""Signed statements: Ed25519 keys, compact JWS over canonical JSON, a published JWKS.

A certificate is also a *credential*: a compact JWS (RFC 7515) with ``alg`` ``EdDSA``
(RFC 8037, Ed25519) whose payload is the canonical JSON of the certificate's facts. Anyone
holding the published key set (``/.well-known/jwks.json``) can check it offline, so a
certificate keeps verifying if the website moves.

Canonical JSON
    ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    encoded as UTF-8: keys sorted, no whitespace, non-ASCII characters as themselves.
    Floats are refused (their text form differs between languages); use strings or
    integers. The protected header is canonical JSON too, so the signed bytes are
    reproducible from the facts alone.

Key ring
    A directory outside the repository (``instance/keys/`` by default; the setting
    ``IRIS_SIGNING_KEY_DIR`` moves it), never served. It holds ``keyring.json`` (public
    metadata: key id and validity period of every key ever used) and one private key per
    key id, ``<kid>.pem`` (PKCS#8, file mode 0600). Several app processes may share the
    directory (a shared volume); each re-reads ``keyring.json`` when its modification time
    changes, so a rotation done by the CLI reaches running workers without a restart.

Validity periods
    Every key has ``not_before`` (when it started signing) and ``not_after`` (when it
    stopped; empty for the current key). :func:`KeyRing.rotate` ends the current key's
    period and starts a new key; the old key stays in the ring and in the JWKS for ever,
    so everything it signed keeps verifying. The JWKS publishes the period of each key as
    ``iris:not_before`` / ``iris:not_after`` (ISO 8601, UTC) and :func:`verify` refuses a
    signature whose signing time (the protected header's ``iat``) falls outside its key's
    period: a retired key cannot be used to mint new statements that verify.

Key ids are RFC 7638 JWK thumbprints (SHA-256, base64url) of the public key, so a key id
cannot be reused for a different key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "ALG",
    "KeyInfo",
    "KeyRing",
    "KeyRingError",
    "VerificationError",
    "VerifiedToken",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "decode_unverified",
    "jwk_thumbprint",
    "keyring_for_app",
    "sign",
    "verify",
    "verify_token",
]

ALG = "EdDSA"
#: Refuse anything longer before parsing it: a certificate credential is about 1.5 KiB.
MAX_JWS_LENGTH = 64 * 1024
KEYRING_FILE = "keyring.json"
_NOT_BEFORE = "iris:not_before"
_NOT_AFTER = "iris:not_after"


# --------------------------------------------------------------------------- encoding


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decoding: unpadded, URL-safe alphabet only."""
    if not set(text) <= _B64URL_ALPHABET or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - alphabet checked above
        raise ValueError("not base64url") from exc


def _check_canonical(value: Any, path: str = "$") -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        raise TypeError(f"{path}: floats have no canonical JSON form; use a string or an integer")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_canonical(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings, got {key!r}")
            _check_canonical(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not JSON (convert it first)")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of ``value`` (sorted keys, no whitespace)."""
    _check_canonical(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text}")
    return moment.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --------------------------------------------------------------------------- keys


def _public_x(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url_encode(raw)


def jwk_thumbprint(x: str) -> str:
    """RFC 7638 thumbprint of an Ed25519 OKP key: the key id used throughout."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": x}
    return b64url_encode(hashlib.sha256(canonical_json(members)).digest())


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key of the ring."""

    kid: str
    x: str  # base64url of the 32-byte public key
    not_before: datetime
    not_after: datetime | None

    @property
    def is_current(self) -> bool:
        return self.not_after is None

    def to_jwk(self) -> dict[str, Any]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.x,
            "kid": self.kid,
            "use": "sig",
            "alg": ALG,
            _NOT_BEFORE: _iso(self.not_before),
            _NOT_AFTER: _iso(self.not_after) if self.not_after else None,
        }

    def valid_at(self, moment: datetime) -> bool:
        if moment < self.not_before:
            return False
        # Inclusive at both ends: timestamps have one-second resolution, and a statement
        # signed in the very second of a rotation must keep verifying.
        return self.not_after is None or moment <= self.not_after


class KeyRingError(RuntimeError):
    """The key ring is missing, incomplete or inconsistent (an operator must act)."""


class KeyRing:
    """The signing keys in one directory. See the module docstring for the layout."""

    _cache_lock = threading.Lock()
    #: directory -> (mtime_ns of keyring.json, [KeyInfo], {kid: private key})
    _cache: dict[str, tuple[int, list[KeyInfo], dict[str, Ed25519PrivateKey]]] = {}

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    # -- reading
    @property
    def _index(self) -> Path:
        return self.directory / KEYRING_FILE

    def exists(self) -> bool:
        return self._index.is_file()

    def _load(self) -> tuple[list[KeyInfo], dict[str, Ed25519PrivateKey]]:
        try:
            mtime = self._index.stat().st_mtime_ns
        except FileNotFoundError:
            raise KeyRingError(
                f"no signing keys in {self.directory}: run `flask --app wsgi iris keys generate`"
            ) from None
        key = str(self.directory.resolve())
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached and cached[0] == mtime:
                return cached[1], cached[2]
        infos, private = self._read()
        with self._cache_lock:
            self._cache[key] = (mtime, infos, private)
        return infos, private

    def _read(self) -> tuple[list[KeyInfo], dict[str, Ed25519PrivateKey]]:
        try:
            data = json.loads(self._index.read_text("utf-8"))
            entries = data["keys"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(f"unreadable key ring {self._index}: {exc}") from exc
        infos: list[KeyInfo] = []
        private: dict[str, Ed25519PrivateKey] = {}
        for entry in entries:
            kid = entry["kid"]
            info = KeyInfo(
                kid=kid,
                x=entry["x"],
                not_before=_parse_iso(entry["not_before"]),
                not_after=_parse_iso(entry["not_after"]) if entry.get("not_after") else None,
            )
            if jwk_thumbprint(info.x) != kid:
                raise KeyRingError(f"key {kid}: key id does not match its public key")
            infos.append(info)
            pem = self.directory / f"{kid}.pem"
            if info.is_current:
                try:
                    loaded = serialization.load_pem_private_key(pem.read_bytes(), password=None)
                except (OSError, ValueError) as exc:
                    raise KeyRingError(f"current key {kid}: private key unreadable: {exc}") from exc
                if not isinstance(loaded, Ed25519PrivateKey):
                    raise KeyRingError(f"current key {kid}: not an Ed25519 key")
                if _public_x(loaded.public_key()) != info.x:
                    raise KeyRingError(f"current key {kid}: private key does not match")
                private[kid] = loaded
        current = [i for i in infos if i.is_current]
        if len(current) != 1:
            raise KeyRingError(
                f"key ring {self._index} must have exactly one current key, has {len(current)}"
            )
        return infos, private

    def keys(self) -> list[KeyInfo]:
        """Every key ever used, oldest first."""
        return list(self._load()[0])

    def current(self) -> KeyInfo:
        return next(i for i in self._load()[0] if i.is_current)

    def jwks(self) -> dict[str, Any]:
        """The public JSON Web Key Set, every key with its validity period."""
        return {"keys": [info.to_jwk() for info in self.keys()]}

    # -- signing
    def sign(
        self, payload: Mapping[str, Any], *, typ: str = "JWT", at: datetime | None = None
    ) -> str:
        """A compact JWS of ``payload`` with the current key (signing time ``at``, now)."""
        infos, private = self._load()
        info = next(i for i in infos if i.is_current)
        return sign(payload, private[info.kid], kid=info.kid, typ=typ, at=at)

    # -- writing (CLI only)
    def generate(self, *, at: datetime | None = None) -> KeyInfo:
        """Create the ring with its first key. Refuses if a ring already exists."""
        if self.exists():
            raise KeyRingError(
                f"a key ring already exists in {self.directory}; "
                "use `keys rotate` to replace the key"
            )
        return self._add_key([], at=at)

    def rotate(self, *, at: datetime | None = None) -> KeyInfo:
        """Retire the current key (its period ends now) and start a new one."""
        infos, _ = self._load()
        moment = (at or _utcnow()).astimezone(UTC).replace(microsecond=0)
        retired = []
        for info in infos:
            if info.is_current:
                if moment < info.not_before:
                    raise KeyRingError(
                        "cannot rotate: the new key would start before the current one"
                    )
                info = KeyInfo(info.kid, info.x, info.not_before, moment)
            retired.append(info)
        return self._add_key(retired, at=moment)

    def _add_key(self, previous: list[KeyInfo], *, at: datetime | None) -> KeyInfo:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_key = Ed25519PrivateKey.generate()
        x = _public_x(private_key.public_key())
        info = KeyInfo(
            kid=jwk_thumbprint(x),
            x=x,
            not_before=(at or _utcnow()).astimezone(UTC).replace(microsecond=0),
            not_after=None,
        )
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        pem_path = self.directory / f"{info.kid}.pem"
        fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        document = {
            "keys": [
                {
                    "kid": k.kid,
                    "x": k.x,
                    "not_before": _iso(k.not_before),
                    "not_after": _iso(k.not_after) if k.not_after else None,
                }
                for k in [*previous, info]
            ]
        }
        # Atomic replace: a reader sees the old ring or the new one, never half of it.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".keyring-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, self._index)
        return info


def keyring_for_app(app: Any = None) -> KeyRing:
    """The key ring configured for ``app`` (default: the current Flask app)."""
    if app is None:
        from flask import current_app

        app = current_app
    directory = app.config.get("IRIS_SIGNING_KEY_DIR") or os.path.join(app.instance_path, "keys")
    return KeyRing(directory)


def signing_ring_for_app(app: Any = None) -> KeyRing:
    """The key ring, for signing: generated on first use when ``IRIS_SIGNING_AUTOGENERATE``
    is on (tests and the local demo); otherwise a missing ring raises KeyRingError."""
    ring = keyring_for_app(app)
    if app is None:
        from flask import current_app

        app = current_app
    if not ring.exists() and app.config.get("IRIS_SIGNING_AUTOGENERATE"):
        ring.generate()
    return ring


# --------------------------------------------------------------------------- JWS


def sign(
    payload: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    kid: str,
    typ: str = "JWT",
    at: datetime | None = None,
) -> str:
    """Compact JWS (``alg`` EdDSA) over the canonical JSON of ``payload``."""
    moment = (at or _utcnow()).astimezone(UTC)
    header = {"alg": ALG, "kid": kid, "typ": typ, "iat": int(moment.timestamp())}
    signing_input = (
        b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(dict(payload)))
    )
    signature = private_key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


class VerificationError(ValueError):
    """A JWS did not verify. ``code`` is stable for machines, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedToken:
    header: dict[str, Any]
    payload: dict[str, Any]
    key: KeyInfo

    @property
    def signed_at(self) -> datetime:
        return datetime.fromtimestamp(self.header["iat"], UTC)


def _split(jws: str | bytes) -> tuple[str, str, str, dict[str, Any], dict[str, Any], bytes]:
    if isinstance(jws, bytes):
        try:
            jws = jws.decode("ascii")
        except UnicodeDecodeError:
            raise VerificationError(
                "malformed", "The credential contains non-ASCII bytes."
            ) from None
    jws = jws.strip()
    if len(jws) > MAX_JWS_LENGTH:
        raise VerificationError(
            "malformed", f"The credential is longer than {MAX_JWS_LENGTH} characters."
        )
    parts = jws.split(".")
    if len(parts) != 3:
        raise VerificationError(
            "malformed", "A compact JWS has three dot-separated parts (header.payload.signature)."
        )
    h64, p64, s64 = parts
    try:
        header = json.loads(b64url_decode(h64))
        payload = json.loads(b64url_decode(p64))
        signature = b64url_decode(s64)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError(
            "malformed", "The credential is not valid base64url-encoded JSON."
        ) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise VerificationError(
            "malformed", "The credential's header and payload must be JSON objects."
        )
    return h64, p64, s64, header, payload, signature


def decode_unverified(jws: str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload WITHOUT checking the signature (for diagnostics only)."""
    _, _, _, header, payload, _ = _split(jws)
    return header, payload


def _jwk_keys(jwks: Mapping[str, Any] | str | bytes) -> dict[str, KeyInfo]:
    if isinstance(jwks, (str, bytes)):
        try:
            jwks = json.loads(jwks)
        except ValueError:
            raise VerificationError("bad_key_set", "The key set is not valid JSON.") from None
    keys: dict[str, KeyInfo] = {}
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise VerificationError(
            "bad_key_set", "The key set must be a JSON object with a 'keys' list."
        )
    for jwk in jwks["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue  # keys of other types are ignored, as RFC 7517 §5 allows
        try:
            x = str(jwk["x"])
            if len(b64url_decode(x)) != 32:
                continue
            not_before = (
                _parse_iso(jwk[_NOT_BEFORE])
                if jwk.get(_NOT_BEFORE)
                else datetime.min.replace(tzinfo=UTC)
            )
            not_after = _parse_iso(jwk[_NOT_AFTER]) if jwk.get(_NOT_AFTER) else None
        except (KeyError, ValueError, TypeError):
            continue
        kid = str(jwk.get("kid") or jwk_thumbprint(x))
        keys[kid] = KeyInfo(kid=kid, x=x, not_before=not_before, not_after=not_after)
    return keys


def verify_token(
    jws: str | bytes, jwks: Mapping[str, Any] | str | bytes, *, typ: str | None = None
) -> VerifiedToken:
    """Check ``jws`` against the key set; return its header, payload and key.

    Raises :class:`VerificationError` whose ``code`` is one of ``malformed``,
    ``unsupported_algorithm``, ``wrong_type``, ``unknown_key``, ``bad_signature``,
    ``key_not_valid`` (signed outside the key's validity period) or ``bad_key_set``.
    """
    h64, p64, _s64, header, payload, signature = _split(jws)
    if header.get("alg") != ALG:
        raise VerificationError(
            "unsupported_algorithm", f"Algorithm {header.get('alg')!r} is not accepted; only {ALG}."
        )
    if typ is not None and header.get("typ") != typ:
        raise VerificationError(
            "wrong_type", f"Expected a {typ!r} statement, got {header.get('typ')!r}."
        )
    kid = header.get("kid")
    keys = _jwk_keys(jwks)
    info = keys.get(kid) if isinstance(kid, str) else None
    if info is None:
        raise VerificationError(
            "unknown_key",
            f"The credential was signed with key {kid!r}, which is not in the published key set.",
        )
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(info.x))
    try:
        public_key.verify(signature, f"{h64}.{p64}".encode("ascii"))
    except InvalidSignature:
        raise VerificationError(
            "bad_signature",
            "The signature does not match: the credential was altered or is not genuine.",
        ) from None
    iat = header.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise VerificationError("malformed", "The credential's header has no signing time (iat).")
    signed_at = datetime.fromtimestamp(iat, UTC)
    if not info.valid_at(signed_at):
        raise VerificationError(
            "key_not_valid",
            f"The credential says it was signed at {_iso(signed_at)}, outside the validity "
            f"period of key {kid}.",
        )
    return VerifiedToken(header=header, payload=payload, key=info)


def verify(
    jws: str | bytes, jwks: Mapping[str, Any] | str | bytes, *, typ: str | None = None
) -> dict[str, Any]:
    """The payload of ``jws`` if it verifies against ``jwks``.

    Raises :class:`VerificationError` otherwise.
    """
    return verify_token(jws, jwks, typ=typ).payload
