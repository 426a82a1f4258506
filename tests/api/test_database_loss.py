"""A database that goes away under the app (T21): a 503 to retry, then the pool recovers by itself."""

from app.db import engine as engines


async def _drop_server_connections(engine) -> None:
    """What a database restart does to the app's pooled connections: they die."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    await engine.dispose()  # the tests' own pool lost its connections too; only the app's is under test


async def test_lost_database_connections_answer_503_to_retry_and_the_pool_recovers(client, team, engine):
    headers = team.headers()
    assert (await client.get("/api/projects", headers=headers)).status_code == 200
    await _drop_server_connections(engine)

    # the connection was in use a moment ago, so it is not pinged: the request fails, retryable
    lost = await client.get("/api/projects", headers=headers)
    assert lost.status_code == 503
    assert lost.headers["retry-after"] == "1"
    assert "Retry" in lost.json()["detail"]
    # and the pool replaced its connections
    assert (await client.get("/api/projects", headers=headers)).status_code == 200


async def test_a_connection_idle_past_the_ping_threshold_is_tested_and_replaced(
    client, team, engine, monkeypatch
):
    headers = team.headers()
    assert (await client.get("/api/projects", headers=headers)).status_code == 200
    await _drop_server_connections(engine)
    monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)  # as if it sat idle
    assert (await client.get("/api/projects", headers=headers)).status_code == 200
