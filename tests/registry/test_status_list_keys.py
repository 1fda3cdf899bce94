"""The signed status list is served even before the first certificate made the key ring."""


def test_status_list_is_signed_on_a_fresh_installation(app, client, tmp_path, monkeypatch):
    fresh = tmp_path / "keys"
    monkeypatch.setitem(app.config, "IRIS_SIGNING_KEY_DIR", str(fresh))
    resp = client.get("/registry/status-list.jwt")
    assert resp.status_code == 200
    assert resp.mimetype == "application/jwt"
    assert resp.get_data(as_text=True).count(".") == 2  # a compact JWS
    assert (fresh).exists()
