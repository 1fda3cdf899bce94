"""The registry search at scale: the text index, the capped count, rare and common words.

Entries are written as the bulk loader writes them (rows built by the sync's own
:func:`~iris.registry.sync.entry_row`, inserted without the ORM), so the database's text
index (FTS5 table and triggers on SQLite, a GIN index of the words on PostgreSQL) is what keeps up.
"""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from iris.certificates.models import Certificate
from iris.core.db import db, utcnow
from iris.registry import queries
from iris.registry.models import RegistryEntry, RegistryIdentifier
from iris.registry.sync import entry_row
from tests.helpers import text_of
from workflows.certificate import CertificateState
from workflows.certification import CaseState

_serial = iter(range(1, 10**6))


def add_entries(world: Any, holders: list[dict[str, Any]]) -> list[str]:
    """Certificates with registry entries for ``holders`` (name, city, country, regs, state);
    returns their numbers."""
    case = world.case(CaseState.CERTIFIED)
    now = utcnow()
    certs, numbers = [], []
    for h in holders:
        number = f"IRIS-{h.get('country', 'PL')}-2025-{next(_serial):07d}"
        numbers.append(number)
        certs.append(
            {
                "number": number,
                "agency_id": world.agency.id,
                "audit_company_id": world.company.id,
                "case_id": case.id,
                "state": CertificateState.ACTIVE,  # the entry's status is given below
                "issued_at": now,
                "expires_at": now + timedelta(days=300),
                "public_id": f"{next(_serial):032x}",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Certificate), certs)
    ids = dict(
        db.session.execute(
            sa.select(Certificate.number, Certificate.id).where(Certificate.number.in_(numbers))
        ).all()
    )
    rows, idents = [], []
    for h, number in zip(holders, numbers, strict=True):
        cert = SimpleNamespace(
            id=ids[number], number=number, state=h.get("state", CertificateState.ACTIVE),
            audit_company_id=world.company.id, status_changed_at=now, expires_at=None,
            last_surveillance_at=None, next_surveillance_due=None, suspension_ends_at=None,
            credential="",
        )  # fmt: skip
        facts = {
            "holder": {
                "name": h["name"],
                "trade_names": [],
                "country": h.get("country", "PL"),
                "city": h.get("city", ""),
                "registration_numbers": h.get("regs", {}),
            },
            "scope": {"corridors": []},
            "audit_company": {"name": world.company.name, "country": "PL"},
            "standard": {"name": "IRIS Standard", "version": "1.0"},
            "issued_at": "2025-01-01",
            "expires_at": "2028-01-01",
        }
        row, keys = entry_row(cert, facts, [], "http://localhost")
        rows.append(row)
        idents += [{"identifier": k, "certificate_id": cert.id} for k in sorted(keys)]
    db.session.execute(sa.insert(RegistryEntry), rows)
    db.session.execute(sa.insert(RegistryIdentifier), idents)
    return numbers


def _shown(html: str) -> list[str]:
    return re.findall(r'href="/verify/(IRIS-[^"]+)"', html)


def _count_line(page: str) -> str:
    match = re.search(r"(More than [\d,]+ certificates|\d+ certificates?)", page)
    assert match, page[:500]
    return match.group(1)


@pytest.fixture
def registry(world):  # type: ignore[no-untyped-def]
    """A small registry: accents, Cyrillic, registration numbers, one suspended."""
    numbers = add_entries(
        world,
        [
            {"name": "Agencja Pracy Łódź Sp. z o.o.", "city": "Łódź",
             "regs": {"krs": "0000123456", "nip": "526-10-44-221"}},
            {"name": "Biuro Kraków", "city": "Kraków", "regs": {"krs": "0000999001"}},
            {"name": "Кадрове агентство Київ", "city": "Київ", "country": "UA",
             "regs": {"edrpou": "40123456"}},
            {"name": "Włodzimierz Personel", "city": "Gdańsk", "state": CertificateState.SUSPENDED},
        ],
    )  # fmt: skip
    return dict(zip(("lodz", "krakow", "kyiv", "gdansk"), numbers, strict=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lodz", ["lodz"]),  # no accents typed: finds Łódź
        ("ŁÓDŹ", ["lodz"]),
        ("agencja lodz", ["lodz"]),  # every word
        ("agencja krakow", []),
        ("odz", []),  # the start of a word, not the middle (Włodzimierz, Łódź)
        ("wlodz", ["gdansk"]),
        ("krak", ["krakow", ]),  # a word's beginning
        ("київ", ["kyiv"]),
        ("КИЇВ", ["kyiv"]),
        ("кадр", ["kyiv"]),
        ("0000123456", ["lodz"]),  # a registration number as written
        ("KRS 0000999001", ["krakow"]),  # with its kind: the identifier table
        ("5261044221", ["lodz"]),  # a tax number without its dashes
        ("526-10-44-221", ["lodz"]),
        ("00009990", ["krakow"]),  # the beginning of a number
        # a one-letter word beside another (SQLite 3.40's FTS5 crashed the process on it)
        ("l lo", ["lodz"]),
        ("z o lo", ["lodz"]),
        ("k kr", ["krakow"]),
        ("l lodz", ["lodz"]),
        ("x lo", []),
        ("lodz qqq", []),  # a word that no word starts with, beside one that matches
    ],
)  # fmt: skip
def test_the_search_matches_words_without_accents_and_numbers(client, registry, q, expected):
    html = client.get("/registry", query_string={"q": q}).get_data(as_text=True)
    assert sorted(_shown(html)) == sorted(registry[k] for k in expected), q


def test_a_certificate_number_finds_its_certificate(client, registry):
    number = registry["kyiv"]
    for typed in (number, number.lower(), number.replace("-", " "), number.split("-")[-1]):
        html = client.get("/registry", query_string={"q": typed}).get_data(as_text=True)
        assert _shown(html) == [number], typed


def test_text_and_filters_combine(client, registry):
    html = client.get("/registry?q=personel&status=suspended").get_data(as_text=True)
    assert _shown(html) == [registry["gdansk"]]
    assert _shown(client.get("/registry?q=personel&status=active").get_data(as_text=True)) == []
    assert _shown(client.get("/registry?q=agentstvo&country=UA").get_data(as_text=True)) == []
    html = client.get("/registry?q=кадрове&country=UA").get_data(as_text=True)
    assert _shown(html) == [registry["kyiv"]]


def test_the_text_index_follows_every_change_of_an_entry(client, registry):
    """Inserts, a changed text, deletions: the database's index keeps up by itself."""
    entry = db.session.get(RegistryEntry, _id(registry["krakow"]))
    db.session.execute(
        sa.update(RegistryEntry)
        .where(RegistryEntry.certificate_id == entry.certificate_id)
        .values(name="Biuro Rzeszów", search_text=" biuro rzeszow ")
    )
    assert _shown(client.get("/registry?q=rzeszow").get_data(as_text=True)) == [registry["krakow"]]
    assert _shown(client.get("/registry?q=krakow").get_data(as_text=True)) == []
    db.session.execute(sa.delete(RegistryIdentifier))
    db.session.execute(sa.delete(RegistryEntry))
    assert _shown(client.get("/registry?q=rzeszow").get_data(as_text=True)) == []
    assert _shown(client.get("/registry?q=lodz").get_data(as_text=True)) == []


def _id(number: str) -> int:
    return int(db.session.scalar(sa.select(Certificate.id).where(Certificate.number == number)))


def test_without_the_text_index_the_search_finds_the_same(client, registry, monkeypatch):
    """An SQLite without FTS5 (or a database without the index): the
    search scans, with the same results."""
    with_index = {
        q: _shown(client.get("/registry", query_string={"q": q}).get_data(as_text=True))
        for q in ("lodz", "київ", "00009990", "wlodz personel", "a")
    }
    if db.engine.dialect.name == "sqlite":
        for table in ("registry_words", "registry_terms"):
            for trigger in ("insert", "delete", "update"):
                db.session.execute(sa.text(f"DROP TRIGGER {table}_{trigger}"))
            db.session.execute(sa.text(f"DROP TABLE {table}"))
    else:
        db.session.execute(sa.text("DROP INDEX ix_registry_entries_search_words"))
        db.session.execute(sa.text("DROP TABLE registry_terms"))
        db.session.execute(sa.text("DROP FUNCTION registry_terms_sync() CASCADE"))
    monkeypatch.setattr(queries, "_index_found", queries.weakref.WeakKeyDictionary())
    without = {
        q: _shown(client.get("/registry", query_string={"q": q}).get_data(as_text=True))
        for q in with_index
    }
    assert without == with_index
    assert with_index["lodz"] == [registry["lodz"]]


def test_the_database_keeps_the_text_index():
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        names = set(
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'registry_%'")
            .scalars()
            .all()
        )
        assert {f"{t}{suffix}" for t in ("registry_words", "registry_terms")
                for suffix in ("", "_insert", "_delete", "_update")} <= names  # fmt: skip
    else:
        indexes = sa.inspect(conn).get_indexes("registry_entries")
        assert "ix_registry_entries_search_words" in {i["name"] for i in indexes}
        assert sa.inspect(conn).has_table("registry_terms")


def test_the_terms_follow_the_entries(registry):
    """registry_terms: an entry's words of 3 characters or more, with its name and number;
    kept by the database through every change of the text and every deletion."""

    def terms(number: str) -> set[str]:
        return set(
            db.session.scalars(
                sa.text(
                    "SELECT word FROM registry_terms WHERE certificate_id = :c"
                    " AND name = (SELECT name FROM registry_entries WHERE certificate_id = :c)"
                ),
                {"c": _id(number)},
            )
        )

    def words(number: str) -> set[str]:
        text = db.session.scalar(
            sa.select(RegistryEntry.search_text).where(RegistryEntry.number == number)
        )
        return {w for w in text.split() if len(w) >= 3}

    lodz = terms(registry["lodz"])
    assert lodz == words(registry["lodz"])
    assert {"agencja", "pracy", "lodz", "0000123456", "5261044221"} <= lodz
    assert not {"sp", "z", "o", "pl"} & lodz  # 1 and 2 characters: not looked up here
    assert terms(registry["kyiv"]) >= {"кадрове", "агентство", "київ", "40123456"}
    db.session.execute(
        sa.update(RegistryEntry)
        .where(RegistryEntry.number == registry["lodz"])
        .values(name="Agencja Opole", search_text=" agencja opole ")
    )
    assert terms(registry["lodz"]) == {"agencja", "opole"}
    old_rows = db.session.scalar(sa.text("SELECT count(*) FROM registry_terms"))
    db.session.execute(sa.update(RegistryEntry).values(state="withdrawn"))  # no text change
    assert db.session.scalar(sa.text("SELECT count(*) FROM registry_terms")) == old_rows
    assert terms(registry["krakow"]) == words(registry["krakow"])
    kyiv = len(terms(registry["kyiv"]))
    db.session.execute(sa.delete(RegistryIdentifier))
    db.session.execute(sa.delete(RegistryEntry).where(RegistryEntry.number == registry["kyiv"]))
    assert (
        db.session.scalar(sa.text("SELECT count(*) FROM registry_terms WHERE word = 'київ'")) == 0
    )
    assert db.session.scalar(sa.text("SELECT count(*) FROM registry_terms")) == old_rows - kyiv


# --------------------------------------------------------------------------- many matches


def _many(world: Any, n: int, word: str) -> list[str]:
    """``n`` entries named "<word> NNNN Agency" (ASCII, so every database sorts them alike)."""
    return add_entries(
        world, [{"name": f"{word} {i:04d} Agency", "city": "Opole"} for i in range(n)]
    )


def test_a_common_word_says_more_than_1000_and_pages_in_name_order(client, world, registry):
    _many(world, queries.COUNT_CAP + 20, "Zeta")
    rare = add_entries(world, [{"name": "Zeta Unique Holding", "city": "Opole"}])
    first = client.get("/registry?q=zeta").get_data(as_text=True)
    page = text_of(client.get("/registry?q=zeta"))
    assert _count_line(page) == "More than 1,000 certificates"
    assert "Page 1" in page and "Page 1 of" not in page
    assert 'href="/registry?page=2&amp;q=zeta"' in first
    names = [
        db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
        for n in _shown(first)
    ]
    assert names == [f"Zeta {i:04d} Agency" for i in range(25)]
    # the last page, 41: "Zeta 1000" to "Zeta 1019", then "Zeta Unique", and no next page
    last = client.get("/registry?q=zeta&page=41").get_data(as_text=True)
    assert "Page 41" in text_of(client.get("/registry?q=zeta&page=41"))
    assert len(_shown(last)) == 21 and _shown(last)[-1] == rare[0]
    assert re.search(r'page-item disabled"><a class="page-link" href="[^"]*page=42', last)
    assert re.search(r'page-item"><a class="page-link" href="[^"]*page=42', first) is None
    assert 'class="page-item"><a class="page-link" href="/registry?page=2&amp;q=zeta"' in first
    # a rare word among them: exact count, sorted, one page
    html = client.get("/registry?q=zeta+unique").get_data(as_text=True)
    assert _shown(html) == rare
    assert _count_line(text_of(client.get("/registry?q=zeta+unique"))) == "1 certificate"
    # a wide filter without words is capped too
    assert _count_line(text_of(client.get("/registry?status=active"))) == (
        "More than 1,000 certificates"
    )


def test_a_rare_word_among_many_is_counted_and_sorted(client, world):
    _many(world, queries.COUNT_CAP + 20, "Zeta")
    add_entries(world, [{"name": f"Omega {c} Agency", "city": "Opole"} for c in "CAB"])
    page = text_of(client.get("/registry?q=omega"))
    assert _count_line(page) == "3 certificates" and "Page 1 of" not in page
    html = client.get("/registry?q=omega").get_data(as_text=True)
    names = [
        db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
        for n in _shown(html)
    ]
    assert names == ["Omega A Agency", "Omega B Agency", "Omega C Agency"]


def test_the_api_still_counts_every_match(client, world):
    _many(world, queries.COUNT_CAP + 20, "Zeta")
    body = client.get("/api/v1/certificates?q=zeta&per_page=10&page=3").get_json()
    assert body["total"] == queries.COUNT_CAP + 20 and body["pages"] == 102
    assert [i["holder"]["name"] for i in body["items"]] == [
        f"Zeta {i:04d} Agency" for i in range(20, 30)
    ]


def test_exact_pages_below_the_cap(client, world, app):
    _many(world, 30, "Kappa")
    html = client.get("/registry?q=kappa&page=2").get_data(as_text=True)
    page = text_of(client.get("/registry?q=kappa&page=2"))
    assert _count_line(page) == "30 certificates" and "Page 2 of 2" in page
    assert len(_shown(html)) == 5


def test_a_common_beginning_merges_its_words_in_name_order(client, world):
    """ "zeta" starts "zeta" and "zetaplus": both runs, merged in name order."""
    holders = [{"name": f"Zeta {i:04d} Agency", "city": "Opole"} for i in range(700)]
    holders += [{"name": f"Zetaplus {i:04d}", "city": "Opole"} for i in range(400)]
    holders += [{"name": f"Alpha {i:04d} Zetaplus", "city": "Opole"} for i in range(3)]
    add_entries(world, holders)
    page = text_of(client.get("/registry?q=zeta"))
    assert _count_line(page) == "More than 1,000 certificates"
    names = [
        db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
        for n in _shown(client.get("/registry?q=zeta").get_data(as_text=True))
    ]
    assert names[:3] == [f"Alpha {i:04d} Zetaplus" for i in range(3)]
    assert names[3:] == [f"Zeta {i:04d} Agency" for i in range(22)]
    html = client.get("/registry?q=zeta&page=29").get_data(as_text=True)  # 700..724 - 3
    names = [
        db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
        for n in _shown(html)
    ]
    assert names == [f"Zeta {i:04d} Agency" for i in range(697, 700)] + [
        f"Zetaplus {i:04d}" for i in range(22)
    ]


def test_common_words_together_and_with_filters(client, world):
    """Two common words, or a common word and a filter: counted through the word index,
    paged along the word's run."""
    add_entries(world, [{"name": f"Zeta {i:04d} Agency", "city": "Opole"} for i in range(1010)])
    add_entries(world, [{"name": f"Zeta {i:04d} Bureau", "city": "Opole"} for i in range(20)])
    add_entries(
        world,
        [{"name": f"Zeta {i:04d} Agency", "city": "Opole", "state": CertificateState.SUSPENDED}
         for i in range(5)],
    )  # fmt: skip
    assert _count_line(text_of(client.get("/registry?q=zeta+agency"))) == (
        "More than 1,000 certificates"
    )
    assert _count_line(text_of(client.get("/registry?q=zeta+bureau"))) == "20 certificates"
    page = text_of(client.get("/registry?q=zeta&status=suspended"))
    assert _count_line(page) == "5 certificates"
    html = client.get("/registry?q=zeta+opole&page=2").get_data(as_text=True)
    names = [
        db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
        for n in _shown(html)
    ]
    # name order: 3 entries for each i < 5 (two agencies, one suspended, and a bureau), then
    # 2 (agency, bureau): the 26th is "Zeta 0010 Agency"
    assert names[0] == "Zeta 0010 Agency" and names[1] == "Zeta 0010 Bureau" and len(names) == 25


def test_words_together_are_paged_along_a_run_checked_word_by_word(client, world, monkeypatch):
    """More matches than the cap for several words: the page is read along the longest
    word's run, each other word checked in ``registry_terms`` by key (a word of 1 or 2
    letters on the entry's row); the pages hold exactly the entries with every word."""
    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    cities = ("Gdansk", "Opole", "Opole")
    add_entries(world, [{"name": f"Zeta {i:04d} Agency", "city": cities[i % 3]} for i in range(60)])
    in_opole = [f"Zeta {i:04d} Agency" for i in range(60) if i % 3]  # 40

    def names(q: str, page: int = 1) -> list[str]:
        html = client.get(f"/registry?q={q}&page={page}").get_data(as_text=True)
        return [
            db.session.scalar(sa.select(RegistryEntry.name).where(RegistryEntry.number == n))
            for n in _shown(html)
        ]

    assert names("zeta+opole") == in_opole[:25]
    assert names("zeta+opole", 2) == in_opole[25:]
    assert names("agency+opol+zeta") == in_opole[:25]  # beginnings of words
    assert names("opole+ze") == in_opole[:25]  # "ze" is checked on the entry
    assert names("zeta+gdansk") == [f"Zeta {i:04d} Agency" for i in range(0, 60, 3)]
    assert names("zeta+opolx") == []
    assert names("zeta+opole+gdansk") == []


def test_the_text_index_finds_beginnings_of_few_and_of_many_words(world):
    """The text index's own match (used when no typed word is rare): a word that starts a
    few words (looked up as those words), one that starts more than MAX_RUN_WORDS words
    (matched as a beginning), one that starts none."""
    many = queries.MAX_RUN_WORDS + 5
    add_entries(world, [{"name": f"Omega{i:03d} Agency", "city": "Opole"} for i in range(many)])
    add_entries(world, [{"name": f"Omega{i:03d} Agency", "city": "Tarnów"} for i in range(3)])
    add_entries(world, [{"name": "Omegas Bureau", "city": "Opole"}])

    def found(q: str) -> int:
        return len(db.session.scalars(queries.Filters(q=q).by_text()).all())

    assert found("omega opole") == many + 1
    assert found("opole omega0") == many
    assert found("omega001 tarnow") == 1
    assert found("omegas opole") == 1
    assert found("omega agency") == many + 3
    assert found("omega qqq") == 0
    assert found("o agency") == many + 3  # one letter: a beginning too


def test_a_bulk_load_may_drop_the_text_index_and_make_it_again(
    client, world, registry, monkeypatch
):
    """drop_text_index before loading many entries, create_text_index(rebuild=True) after:
    the same results as with the triggers."""
    from iris.registry.models import create_text_index, drop_text_index

    queries_ = ("lodz", "київ", "00009990", "zeta", "zeta 0003")
    before = _many(world, 5, "Zeta")
    expected = {
        q: _shown(client.get("/registry", query_string={"q": q}).get_data(as_text=True))
        for q in queries_
    }
    terms = db.session.scalar(sa.text("SELECT count(*) FROM registry_terms"))
    conn = db.session.connection()
    drop_text_index(conn)
    monkeypatch.setattr(queries, "_index_found", queries.weakref.WeakKeyDictionary())
    loaded = _many(world, 3, "Zetb")  # loaded while there is no index
    assert create_text_index(conn, rebuild=True)
    monkeypatch.setattr(queries, "_index_found", queries.weakref.WeakKeyDictionary())
    got = {
        q: _shown(client.get("/registry", query_string={"q": q}).get_data(as_text=True))
        for q in queries_
    }
    assert got == expected and len(got["zeta"]) == len(before)
    html = client.get("/registry?q=zetb").get_data(as_text=True)
    assert sorted(_shown(html)) == sorted(loaded)
    texts = db.session.scalars(
        sa.select(RegistryEntry.search_text).where(RegistryEntry.number.in_(loaded))
    )
    added = sum(len({w for w in text.split() if len(w) >= 3}) for text in texts)
    assert db.session.scalar(sa.text("SELECT count(*) FROM registry_terms")) == terms + added


@pytest.mark.parametrize(
    ("lang", "active", "suspended"),
    [
        ("en", "Active", "Suspended"),
        ("pl", "Aktywny", "Zawieszony"),
        ("uk", "Активний", "Призупинено"),
    ],
)
def test_each_row_shows_its_status_in_the_page_language(client, world, lang, active, suspended):
    add_entries(
        world,
        [
            {"name": "Omega First Agency", "city": "Opole"},
            {"name": "Omega Second Agency", "city": "Opole", "state": CertificateState.SUSPENDED},
        ],
    )
    page = text_of(client.get(f"/registry?q=omega&lang={lang}"))
    first = page[page.index("Omega First Agency") : page.index("Omega Second Agency")]
    second = page[page.index("Omega Second Agency") :]
    assert active in first and suspended not in first
    assert suspended in second
