"""peernudge doctor and /readyz: what is wrong, said plainly."""

from service.doctor import diagnose
from service.runtime import build_runtime


def levels(findings) -> dict[str, str]:
    return {f.check: f.level for f in findings}


def test_a_healthy_embedded_install_warns_only_about_production_choices(runtime):
    found = levels(diagnose(runtime))
    on_postgres = runtime.engine.dialect.name == "postgresql"
    assert found["database"] == ("ok" if on_postgres else "warn")  # SQLite is for one machine
    assert found["redis"] == "ok"
    assert found["sms gateway"] == "warn"  # simulator
    assert "fail" not in found.values()


def test_redis_without_noeviction_is_a_failure(runtime):
    runtime.redis.config_set("maxmemory-policy", "allkeys-lru")
    try:
        findings = [f for f in diagnose(runtime) if f.check == "redis settings"]
        assert any(f.level == "fail" and "noeviction" in f.detail for f in findings)
    finally:
        runtime.redis.config_set("maxmemory-policy", "noeviction")


def twilio_runtime_at(settings, url: str):
    return build_runtime(
        settings.with_overrides(
            sms_gateway="twilio",
            twilio_account_sid="AC" + "1" * 32,
            twilio_from_number="+15005550006",
            twilio_api_base_url=url,
            public_base_url="https://example.org",
        )
    )


def test_twilio_credentials_are_checked_against_the_api(settings, fake_twilio):
    reachable = twilio_runtime_at(settings, fake_twilio.url)
    assert levels(diagnose(reachable))["twilio"] == "ok"
    unreachable = twilio_runtime_at(settings, "http://127.0.0.1:9")  # nothing listens there
    assert levels(diagnose(unreachable))["twilio"] == "fail"
    reachable.close()
    unreachable.close()


def test_unmigrated_database_fails(settings, tmp_path):
    empty = build_runtime(settings.with_overrides(database_url=f"sqlite:///{tmp_path}/empty.db"))
    assert levels(diagnose(empty))["database"] == "fail"
    empty.close()


def test_readyz_checks_migrations_too(client, settings, tmp_path, make_app):
    assert client.get("/readyz").json["checks"] == {
        "database": "ok",
        "redis": "ok",
        "migrations": "ok",
    }
    app = make_app(settings.with_overrides(database_url=f"sqlite:///{tmp_path}/fresh.db"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["migrations"]


def test_redis_without_appendfsync_everysec_is_a_warning(runtime):
    runtime.redis.config_set("appendonly", "yes")
    runtime.redis.config_set("appendfsync", "no")
    try:
        findings = [f for f in diagnose(runtime) if f.check == "redis settings"]
        assert [f.level for f in findings] == ["warn"]
        assert "appendfsync is no" in findings[0].detail
    finally:
        runtime.redis.config_set("appendfsync", "everysec")
        runtime.redis.config_set("appendonly", "no")


def test_metrics_off_is_reported(runtime):
    found = {f.check: f for f in diagnose(runtime)}
    assert found["metrics"].level == "warn"
    assert "METRICS_TOKEN" in found["metrics"].detail
