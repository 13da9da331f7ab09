import shutil


def test_healthz_reports_database_and_redis_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_healthz_names_redis_when_it_is_unreachable(settings, tmp_path, make_app):
    app = make_app(settings.with_overrides(redis_url=f"unix://{tmp_path}/nothing.sock"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failed"] == ["redis"]
    assert response.json["checks"]["database"] == "ok"


def test_healthz_names_the_database_when_it_is_unreachable(settings, tmp_path, make_app):
    broken = settings.with_overrides(database_url=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    app = make_app(broken)
    # The engine made the folder and the (private, empty) file; take them away again.
    shutil.rmtree(tmp_path / "no" / "such" / "dir")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failed"] == ["database"]
