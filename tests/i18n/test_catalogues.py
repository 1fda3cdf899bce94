"""The catalogues are complete: every message in the code is translated in pl, uk and ru,
none is fuzzy or obsolete, and the compiled .mo files match their .po sources.

When this fails after a change to user-facing text: extract, update, translate and compile
as the README's "Translations" paragraph says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "iris" / "translations"
LOCALES = ("pl", "uk", "ru")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids: set[str] = set()
    for *_, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return {i for i in ids if i}


def _po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_code_is_translated(extracted, locale):
    catalog = _po(locale)
    missing = sorted(m for m in extracted if m not in catalog)
    untranslated = sorted(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    )
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    assert not missing, f"{locale}: {len(missing)} messages not in the catalogue, e.g. {missing[:5]}"
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{locale}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_obsolete_messages_remain(extracted, locale):
    catalog = _po(locale)
    obsolete = sorted(str(k) for k in catalog.obsolete)
    stale = sorted(
        (m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id
    )
    stale = [m for m in stale if m not in extracted]
    assert not obsolete, f"{locale}: obsolete entries (#~) left in the .po: {obsolete[:5]}"
    assert not stale, f"{locale}: entries no longer in the code: {stale[:5]}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_its_source(locale):
    catalog = _po(locale)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = read_mo(f)
    def key(value):  # type: ignore[no-untyped-def]
        return tuple(value) if isinstance(value, list) else value  # plural forms

    source = {key(m.id): key(m.string) for m in catalog if m.id and not m.fuzzy}
    built = {key(m.id): key(m.string) for m in compiled if m.id}
    assert built == source, f"{locale}: messages.mo is out of date: run pybabel compile"
