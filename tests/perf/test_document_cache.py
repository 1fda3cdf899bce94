"""The per-process cache of registry documents (PostgreSQL's verification path).

A verifier must never get a status older than the latest notification: a document read
while a change was being notified is not kept, and every notification empties the cache.
"""

from __future__ import annotations

import pytest

from iris.registry.queries import DocumentCache


def test_a_cached_document_is_served_without_reading_again():
    cache = DocumentCache(10)
    cache.listening = True
    reads: list[str] = []

    def load(number: str) -> str:
        reads.append(number)
        return f'{{"number":"{number}","status":"active"}}'

    assert cache.get("N1", load) == cache.get("N1", load)
    assert reads == ["N1"]


def test_a_notification_empties_the_cache_and_the_next_read_sees_the_change():
    cache = DocumentCache(10)
    cache.listening = True
    status = {"N1": "active"}
    assert "active" in cache.get("N1", lambda n: status[n])
    status["N1"] = "suspended"
    cache.clear()  # what the listener does on NOTIFY iris_registry
    assert "suspended" in cache.get("N1", lambda n: status[n])


def test_a_read_that_raced_a_change_is_not_kept():
    cache = DocumentCache(10)
    cache.listening = True
    status = {"N1": "active"}

    def load_while_a_change_commits(number: str) -> str:
        old = status[number]  # read before the commit
        status[number] = "withdrawn"
        cache.clear()  # its notification arrives before the read returns
        return old

    assert cache.get("N1", load_while_a_change_commits) == "active"
    assert cache.get("N1", lambda n: status[n]) == "withdrawn"  # not the stale "active"


def test_nothing_is_cached_while_the_listener_is_not_connected():
    cache = DocumentCache(10)
    reads: list[str] = []

    def load(number: str) -> str:
        reads.append(number)
        return "{}"

    cache.get("N1", load)
    cache.get("N1", load)
    assert reads == ["N1", "N1"]


def test_unknown_numbers_are_not_cached_and_the_size_is_bounded():
    cache = DocumentCache(3)
    cache.listening = True
    assert cache.get("NONE", lambda n: None) is None
    for i in range(10):
        cache.get(f"N{i}", lambda n: n)
    assert "NONE" not in cache.data and len(cache.data) <= 3


def test_the_cache_is_used_on_postgresql_only(app):  # type: ignore[no-untyped-def]
    from iris.registry import queries

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.test_request_context():
            assert queries._process_cache() is None
    else:  # PostgreSQL: the cache is on, with the configured size
        with app.test_request_context():
            cache = queries._process_cache()
            assert cache is not None
            assert cache.size == app.config["IRIS_REGISTRY_CACHE_SIZE"]


def test_a_lost_listener_reports_the_outage_once_not_every_retry(monkeypatch, caplog):
    """Retried every second while the database is away: one error in the log, not one a
    second (a dropped test database used to fill CI's output with tracebacks)."""
    from iris.registry import queries

    class Away:
        def raw_connection(self):  # type: ignore[no-untyped-def]
            raise OSError("connection refused")

    class Stop(BaseException):
        pass

    retries = []

    def sleep(_seconds: float) -> None:
        retries.append(_seconds)
        if len(retries) == 5:
            raise Stop

    monkeypatch.setattr(queries.time, "sleep", sleep)
    cache = DocumentCache(size=10)
    cache.engine = Away()
    with caplog.at_level("ERROR", logger="iris.registry.queries"), pytest.raises(Stop):
        cache._listen()
    assert len(retries) == 5
    assert [r.getMessage() for r in caplog.records].count(
        "registry cache: listener lost; caching off until it reconnects"
    ) == 1
    assert cache.listening is False
