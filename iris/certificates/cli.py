"""``flask --app wsgi iris keys generate|rotate|list`` and ``flask --app wsgi iris verify FILE``.

``verify`` is the offline check: it reads a certificate PDF (the credential is attached
inside it) or a bare JWS, checks the signature against a key set — the local key ring's, or
a downloaded ``jwks.json`` given with ``--jwks`` — and prints the signed facts. With
``--status-list`` (a downloaded ``status-list.jwt``) it also checks the current status
without asking the registry. Exit code 0 when the signature verifies (and, with a status
list, the certificate is active), 1 otherwise.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click

from iris.core.signing import KeyRingError, VerificationError, keyring_for_app, verify_token

STATUS_LIST_TYPE = "iris-status-list+jwt"


def extract_credential(data: bytes) -> str:
    """The compact JWS inside a certificate PDF (its ``.jws`` attachment), or ``data`` itself."""
    if not data.startswith(b"%PDF"):
        return data.decode("ascii", errors="replace").strip()
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        attachments = PdfReader(io.BytesIO(data)).attachments
    except (PdfReadError, ValueError, KeyError) as exc:
        raise click.ClickException(f"not a readable PDF: {exc}") from None
    for name, contents in attachments.items():
        if name.endswith(".jws") and contents:
            return contents[0].decode("ascii", errors="replace").strip()
    raise click.ClickException("this PDF carries no credential (no .jws attachment)")


def _print_facts(facts: dict[str, Any]) -> None:
    holder = facts.get("holder", {})
    scope = facts.get("scope", {})
    lines = [
        ("Certificate", facts.get("number")),
        ("Holder", holder.get("name")),
        ("Country", f"{holder.get('city', '')}, {holder.get('country', '')}".strip(", ")),
        (
            "Registration",
            ", ".join(f"{k} {v}" for k, v in holder.get("registration_numbers", {}).items()),
        ),
        (
            "Corridors",
            ", ".join(f"{c['origin']}->{c['destination']}" for c in scope.get("corridors", [])),
        ),
        ("Services", ", ".join(scope.get("services", []))),
        ("Audit company", facts.get("audit_company", {}).get("name")),
        (
            "Standard",
            f"{facts.get('standard', {}).get('name', '')} {facts.get('standard', {}).get('version', '')}",
        ),
        ("Issued", facts.get("issued_at")),
        ("First issued", facts.get("original_issued_at")),
        ("Expires", facts.get("expires_at")),
        ("Verify online", facts.get("verify_url")),
    ]
    for label, value in lines:
        if value:
            click.echo(f"  {label + ':':<15} {value}")


def register(group: click.Group) -> None:
    @group.group("keys")
    def keys() -> None:
        """The certificate signing keys (kept in IRIS_SIGNING_KEY_DIR, never served)."""

    @keys.command("generate")
    def keys_generate() -> None:
        """Create the key ring with its first Ed25519 key."""
        ring = keyring_for_app()
        try:
            info = ring.generate()
        except KeyRingError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Generated signing key {info.kid} in {ring.directory}")

    @keys.command("rotate")
    def keys_rotate() -> None:
        """Retire the current key (it keeps verifying what it signed) and start a new one."""
        ring = keyring_for_app()
        try:
            old = ring.current()
            info = ring.rotate()
        except KeyRingError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Retired {old.kid}; now signing with {info.kid}")

    @keys.command("list")
    def keys_list() -> None:
        """Every key with its validity period (what /.well-known/jwks.json publishes)."""
        try:
            infos = keyring_for_app().keys()
        except KeyRingError as exc:
            raise click.ClickException(str(exc)) from None
        for info in infos:
            until = info.not_after.isoformat() if info.not_after else "current"
            click.echo(f"{info.kid}  from {info.not_before.isoformat()}  until {until}")

    @group.command("verify")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--jwks",
        "jwks_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A downloaded /.well-known/jwks.json (default: this installation's key ring).",
    )
    @click.option(
        "--status-list",
        "status_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A downloaded /registry/status-list.jwt, to check the current status offline.",
    )
    def verify_file(file: Path, jwks_path: Path | None, status_path: Path | None) -> None:
        """Check a certificate PDF or credential (JWS) offline and print its facts."""
        if jwks_path is not None:
            jwks: Any = json.loads(jwks_path.read_text("utf-8"))
        else:
            try:
                jwks = keyring_for_app().jwks()
            except KeyRingError as exc:
                raise click.ClickException(f"{exc} (or pass --jwks FILE)") from None
        credential = extract_credential(file.read_bytes())
        try:
            token = verify_token(credential, jwks)
        except VerificationError as exc:
            click.echo(f"NOT VALID: {exc.message} [{exc.code}]", err=True)
            raise SystemExit(1) from None
        facts = token.payload
        click.echo(
            f"Signature valid: signed {token.signed_at:%Y-%m-%d %H:%M} UTC with key {token.key.kid}"
        )
        _print_facts(facts)
        if status_path is None:
            click.echo("Current status: check the registry, or pass --status-list FILE.")
            return
        try:
            status_list = verify_token(status_path.read_text("ascii"), jwks, typ=STATUS_LIST_TYPE)
        except VerificationError as exc:
            click.echo(f"Status list NOT VALID: {exc.message} [{exc.code}]", err=True)
            raise SystemExit(1) from None
        status = status_list.payload.get("statuses", {}).get(facts.get("number"))
        click.echo(
            f"Current status: {status or 'not in the list'} "
            f"(status list of {status_list.payload.get('updated_at')})"
        )
        if status != "active":
            raise SystemExit(1)
