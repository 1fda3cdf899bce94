"""Signed statements: what an offline verifier relies on."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from iris.core import signing
from iris.core.signing import KeyRing, KeyRingError, VerificationError

FACTS = {"number": "IRIS-PL-2025-0000423", "holder": {"name": "Agencja „Żółw” Łódź"}, "n": 1}


@pytest.fixture
def ring(tmp_path):
    ring = KeyRing(tmp_path / "keys")
    ring.generate(at=datetime(2025, 1, 1, tzinfo=UTC))
    return ring


def test_canonical_json_is_sorted_compact_utf8():
    data = {"b": 1, "a": {"ż": "Łódź", "c": [True, None]}}
    assert signing.canonical_json(data) == '{"a":{"c":[true,null],"ż":"Łódź"},"b":1}'.encode()


def test_canonical_json_refuses_floats_and_objects():
    with pytest.raises(TypeError, match="floats"):
        signing.canonical_json({"score": 0.5})
    with pytest.raises(TypeError, match="datetime"):
        signing.canonical_json({"at": datetime.now(UTC)})


def test_statement_verifies_with_the_published_key_set(ring):
    jws = ring.sign(FACTS, typ="iris-certificate+jwt")
    jwks = json.loads(json.dumps(ring.jwks()))  # as a verifier downloads it
    assert signing.verify(jws, jwks) == FACTS
    header, _ = signing.decode_unverified(jws)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == ring.current().kid
    # The signed payload is exactly the canonical JSON of the facts.
    assert signing.b64url_decode(jws.split(".")[1]) == signing.canonical_json(FACTS)


def test_jwks_publishes_ed25519_keys_with_validity_periods(ring):
    (jwk,) = ring.jwks()["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert jwk["iris:not_before"] == "2025-01-01T00:00:00Z"
    assert jwk["iris:not_after"] is None
    assert "d" not in jwk  # never the private part
    assert jwk["kid"] == signing.jwk_thumbprint(jwk["x"])


@pytest.mark.parametrize("part", [0, 1, 2])
def test_changing_one_byte_breaks_the_signature(ring, part):
    jws = ring.sign(FACTS)
    pieces = jws.split(".")
    if part == 1:
        # Change one byte of the decoded payload: a digit of the certificate number.
        raw = bytearray(signing.b64url_decode(pieces[1]))
        raw[raw.index(b"423")] = ord("5")
        pieces[1] = signing.b64url_encode(bytes(raw))
    elif part == 2:
        raw = bytearray(signing.b64url_decode(pieces[2]))
        raw[0] ^= 1
        pieces[2] = signing.b64url_encode(bytes(raw))
    else:
        header = json.loads(signing.b64url_decode(pieces[0]))
        header["typ"] = "JWX"
        pieces[0] = signing.b64url_encode(signing.canonical_json(header))
    with pytest.raises(VerificationError) as err:
        signing.verify(".".join(pieces), ring.jwks())
    assert err.value.code == "bad_signature"
    assert "altered" in str(err.value)


def test_statements_signed_before_a_rotation_keep_verifying(ring):
    old = ring.sign(FACTS, at=datetime(2025, 3, 1, tzinfo=UTC))
    old_kid = ring.current().kid
    new_info = ring.rotate(at=datetime(2025, 6, 1, tzinfo=UTC))
    new = ring.sign(FACTS, at=datetime(2025, 6, 2, tzinfo=UTC))
    jwks = ring.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [old_kid, new_info.kid]
    assert jwks["keys"][0]["iris:not_after"] == "2025-06-01T00:00:00Z"
    assert signing.verify(old, jwks) == FACTS
    assert signing.verify(new, jwks) == FACTS
    assert signing.decode_unverified(new)[0]["kid"] == new_info.kid


def test_a_retired_key_cannot_mint_new_statements(ring, tmp_path):
    # Someone who stole the old private key signs after its period ended.
    old_pem = (ring.directory / f"{ring.current().kid}.pem").read_bytes()
    old_kid = ring.current().kid
    ring.rotate(at=datetime(2025, 6, 1, tzinfo=UTC))
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    stolen = load_pem_private_key(old_pem, password=None)
    forged = signing.sign(FACTS, stolen, kid=old_kid, at=datetime(2025, 7, 1, tzinfo=UTC))
    with pytest.raises(VerificationError) as err:
        signing.verify(forged, ring.jwks())
    assert err.value.code == "key_not_valid"


def test_unknown_key_and_wrong_algorithm_are_named(ring, tmp_path):
    other = KeyRing(tmp_path / "other")
    other.generate()
    with pytest.raises(VerificationError) as err:
        signing.verify(other.sign(FACTS), ring.jwks())
    assert err.value.code == "unknown_key"

    header = signing.b64url_encode(signing.canonical_json({"alg": "none", "kid": "x", "iat": 1}))
    body = signing.b64url_encode(signing.canonical_json(FACTS))
    with pytest.raises(VerificationError) as err:
        signing.verify(f"{header}.{body}.", ring.jwks())
    assert err.value.code == "unsupported_algorithm"


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b", "a.b.c.d", "@@@.###.$$$", "x" * 70_000, "eyJ9.eyJ9.AA", b"\xff\xfe"],
)
def test_garbage_is_malformed_not_a_crash(ring, garbage):
    with pytest.raises(VerificationError) as err:
        signing.verify(garbage, ring.jwks())
    assert err.value.code == "malformed"


def test_typ_is_enforced_when_asked(ring):
    jws = ring.sign(FACTS, typ="iris-status-list+jwt")
    with pytest.raises(VerificationError) as err:
        signing.verify(jws, ring.jwks(), typ="iris-certificate+jwt")
    assert err.value.code == "wrong_type"


def test_private_keys_are_private_and_generate_refuses_to_overwrite(ring):
    pem = ring.directory / f"{ring.current().kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    with pytest.raises(KeyRingError, match="rotate"):
        ring.generate()


def test_missing_ring_says_how_to_create_one(tmp_path):
    with pytest.raises(KeyRingError, match="keys generate"):
        KeyRing(tmp_path / "nothing").sign(FACTS)


def test_another_process_sees_a_rotation_without_restart(ring):
    reader = KeyRing(ring.directory)  # same directory, as another worker would open it
    before = reader.current().kid
    writer = KeyRing(ring.directory)
    info = writer.rotate(at=datetime.now(UTC) + timedelta(seconds=1))
    assert reader.current().kid == info.kid != before
