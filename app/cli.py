"""The `quorum` command: start, worker, migrate, user create."""

import asyncio

import typer
import uvicorn

from app.config import Settings
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.domain.roles import Role
from app.services import users

cli = typer.Typer(help="Quorum annotation workflow server.", no_args_is_help=True)
user_cli = typer.Typer(help="Manage users.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")


async def _bootstrap(settings: Settings) -> None:
    """Create the first admin on an empty database and print what was generated."""
    engine = make_engine(settings.resolved_database_url)
    async with make_sessionmaker(engine)() as session:
        password = await users.bootstrap_admin(
            session, email=settings.admin_email, password=settings.admin_password, token=settings.admin_token
        )
        await session.commit()
        if password is not None:
            typer.echo(f"Created admin {settings.admin_email} with password: {password} (shown once)")
    await engine.dispose()


@cli.command()
def migrate() -> None:
    """Apply pending database migrations."""
    upgrade(Settings().resolved_database_url)


@cli.command()
def start(
    host: str | None = typer.Option(None, help="Address to listen on (default QUORUM_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (default QUORUM_PORT)."),
    workers: int = typer.Option(1, help="Number of server processes."),
) -> None:
    """Apply pending migrations, create the first admin if needed, then serve."""
    settings = Settings()
    upgrade(settings.resolved_database_url)
    asyncio.run(_bootstrap(settings))
    settings.resolved_secret_key  # noqa: B018 (generate once, before worker processes start)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=True,
        access_log=settings.access_log,
    )


@cli.command()
def worker(burst: bool = typer.Option(False, help="Stop when the queue is empty.")) -> None:
    """Run an arq worker for background jobs (needs QUORUM_REDIS_URL)."""
    from arq import run_worker
    from arq.connections import RedisSettings

    from app.workers.settings import WorkerSettings

    settings = Settings()
    if not settings.redis_url:
        raise typer.BadParameter("set QUORUM_REDIS_URL to run a worker; without it jobs run in the server")
    run_worker(WorkerSettings, redis_settings=RedisSettings.from_dsn(settings.redis_url), burst=burst)  # type: ignore[arg-type]


@user_cli.command("create")
def user_create(
    email: str = typer.Option(..., help="Email, also the username."),
    password: str | None = typer.Option(None, help="Password for the browser; none means API only."),
    role: Role = typer.Option(Role.ANNOTATOR, help="Role in the organization."),
    token: str | None = typer.Option(None, help="API token to use instead of a generated one."),
) -> None:
    """Create a user and print their API token."""

    async def run() -> str:
        settings = Settings()
        engine = make_engine(settings.resolved_database_url)
        async with make_sessionmaker(engine)() as session:
            _, key = await users.create_user(session, email=email, password=password, role=role, token=token)
            await session.commit()
        await engine.dispose()
        return key

    upgrade(Settings().resolved_database_url)
    typer.echo(asyncio.run(run()))


def main() -> None:
    cli()
