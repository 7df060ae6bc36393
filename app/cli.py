"""The `aanmeldpunt` command: serve, migrate, worker, demo, create-client, audit verify,
rotate-keys, openapi."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from app.audit.models import AdminAction
from app.config import Environment, Settings, get_settings

cli = typer.Typer(help="Centraal Aanmeldpunt", no_args_is_help=True, add_completion=False)
audit_cli = typer.Typer(help="The access log", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")

_embedded: Any = None


def database_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server in DATA_DIR (started if needed)."""
    global _embedded
    if settings.database_url:
        return settings.database_url
    from app.embedded import start_embedded

    url, _embedded = start_embedded(settings.data_dir)
    return url


def _settings_with_db() -> Settings:
    """The settings with the database to use. On the embedded server the superuser migrates
    and the service connects as its own least-privileged login role (app.roles)."""
    settings = get_settings()
    if settings.database_url:
        return settings
    from app.roles import embedded_service_url

    superuser = database_url(settings)
    service = asyncio.run(embedded_service_url(superuser, settings.data_dir))
    return settings.model_copy(
        update={"database_url": service, "migration_database_url": settings.migration_database_url or superuser}
    )


def _check_service_role(settings: Settings) -> None:
    """Production runs the service as a role that owns nothing (app.roles.service_role_problem)."""
    from app.roles import service_role_problem

    if settings.environment == Environment.production:
        if problem := asyncio.run(service_role_problem(settings.database_url or "")):
            typer.echo(f"error: ENVIRONMENT=production: {problem}", err=True)
            raise typer.Exit(2)


def _check_regions(load: Any) -> None:
    """Every configured region file, validated before anything starts; a bad one stops the start."""
    try:
        load(get_settings().region_codes)
    except (LookupError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _check_production() -> None:
    """With ENVIRONMENT=production, the secrets development would generate must be set; without
    them nothing starts (not even the embedded database), with one line per missing setting."""
    if problems := get_settings().production_problems():
        for problem in problems:
            typer.echo(f"error: ENVIRONMENT=production: {problem}", err=True)
        raise typer.Exit(2)


@cli.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default PORT or 8000)"),
    workers: bool = typer.Option(True, help="Also run the background workers in this process"),
) -> None:
    """Start the API (migrations run first)."""
    import uvicorn

    from app.embedded import embedded_lifetime
    from app.main import create_app
    from app.regions.config import load_regions

    _check_production()
    _check_regions(load_regions)
    settings = _settings_with_db().model_copy(update={"run_workers": workers and get_settings().run_workers})
    app = create_app(settings)
    with embedded_lifetime(_embedded):  # SIGINT/SIGTERM end uvicorn, then the embedded PostgreSQL
        uvicorn.run(
            app,
            host=host or settings.host,
            port=port or int(os.environ.get("PORT", settings.port)),
            log_config=None,
            proxy_headers=False,  # X-Forwarded-For is read only from TRUSTED_PROXIES (app.http.client_ip)
        )


@cli.command()
def migrate() -> None:
    """Apply database migrations."""
    from app.migrate import prepare

    _check_production()
    prepare(_settings_with_db())
    typer.echo("migrations applied")


@cli.command()
def worker() -> None:
    """Run the background workers (dispatcher, deadline monitor, retention) until stopped."""
    from app import db
    from app.logging import configure
    from app.migrate import prepare
    from app.regions.config import load_regions
    from app.worker import run_workers

    _check_production()
    _check_regions(load_regions)
    settings = _settings_with_db()
    configure(settings.log_level)
    prepare(settings)
    _check_service_role(settings)

    async def main() -> None:
        db.init_engine(settings.database_url or "", settings)
        try:
            await run_workers(settings)
        finally:
            await db.dispose_engine()

    from app.embedded import embedded_lifetime

    with embedded_lifetime(_embedded), contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


async def _trail(session: Any, action: Any, target: str) -> None:
    """A change made from the command line, for every region, in the admin trail."""
    from app.audit.models import ALL_REGIONS
    from app.audit.service import Actor, record_admin_change

    operator = os.environ.get("USER") or None
    await record_admin_change(session, Actor("cli", "aanmeldpunt", operator), action, target, region=ALL_REGIONS)


async def _with_session(fn: Any) -> Any:
    from app import db
    from app.migrate import prepare

    settings = await asyncio.to_thread(_settings_with_db)
    await asyncio.to_thread(prepare, settings)
    db.init_engine(settings.database_url or "", settings)
    try:
        async with db.session_factory()() as session:
            result = await fn(session, settings)
            await session.commit()
            return result
    finally:
        await db.dispose_engine()


@cli.command("create-client")
def create_client_cmd(
    organisation: str = typer.Option(..., help="Organisation code (created if needed)"),
    scopes: str = typer.Option(..., help='Space-separated scopes, e.g. "admin"'),
    name: str = typer.Option(None, help="Client name"),
    kind: str = typer.Option(None, help="Organisation kind when it is created"),
    region: str = typer.Option(None, help="Region of a new organisation (default: the first of REGIONS)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Create a client (and its organisation if needed); prints the secret once."""
    from sqlalchemy import select

    from app.auth.models import Organisation
    from app.auth.service import DEFAULT_KIND_BY_SCOPE, create_client, get_or_create_organisation

    scope_list = scopes.split()

    async def run(session: Any, settings: Settings) -> dict[str, str]:
        codes = settings.region_codes
        wanted = region or codes[0]
        if wanted not in codes:
            raise ValueError(f"region {wanted!r} is not served by this deployment (REGIONS: {', '.join(codes)})")
        existing = await session.scalar(select(Organisation).where(Organisation.code == organisation))
        if existing is not None and region is not None and existing.region != region:
            raise ValueError(f"organisation {organisation!r} belongs to region {existing.region!r}, not {region!r}")
        guessed = kind or next((DEFAULT_KIND_BY_SCOPE[s] for s in scope_list if s in DEFAULT_KIND_BY_SCOPE), "referrer")
        org = await get_or_create_organisation(session, organisation, kind=guessed, region=wanted)
        client, secret = await create_client(session, org, name or f"{organisation} client", scope_list)
        return {"clientId": client.client_id, "clientSecret": secret, "organisation": org.code, "region": org.region}

    try:
        result = asyncio.run(_with_session(run))
    except Exception as exc:
        detail = getattr(exc, "invalid_params", None) or str(exc)
        typer.echo(f"error: {detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result) if as_json else f"client id: {result['clientId']}\nsecret: {result['clientSecret']}")


@cli.command()
def demo() -> None:
    """Load every configured region with its programmes and a client per role per region; print
    the credentials as JSON keyed by region (the first region's also at the top level)."""
    from app.auth.service import create_client, get_or_create_organisation
    from app.regions.config import load_regions
    from app.routing.catalogue import seed

    async def run(session: Any, settings: Settings) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code, region in load_regions(settings.region_codes).items():
            await seed(session, region)
            referrer = "verloskundigen-zuid" if code == "rotterdam" else f"verloskundigen-{code}"
            roles = [
                ("admin", f"aanmeldpunt-{code}", "aanmeldpunt", ["admin"]),
                ("staff", f"aanmeldpunt-{code}", "aanmeldpunt", ["intakes:read", "intakes:write"]),
                ("referrer", referrer, "referrer", ["referrals:write", "referrals:read"]),
                # The municipality's evaluators: figures and the pseudonymised research export only.
                ("evaluator", f"gemeente-{code}-onderzoek", "referrer", ["statistics:read", "research:export"]),
            ]
            roles += [
                (f"programme:{p.code}", p.organisation, p.organisation_kind, ["handoffs:write"])
                for p in region.programmes
            ]
            clients: dict[str, Any] = {}
            for role, org_code, kind, scopes in roles:
                org = await get_or_create_organisation(session, org_code, kind=kind, region=code)
                client, secret = await create_client(session, org, f"demo {role}", scopes)
                clients[role] = {
                    "organisation": org_code,
                    "region": org.region,
                    "clientId": client.client_id,
                    "clientSecret": secret,
                    "scopes": scopes,
                }
            if not out:
                out.update(clients)  # the README walk-through reads .admin, .staff … of the first region
            out.setdefault("regions", {})[code] = clients
        return out

    typer.echo(json.dumps(asyncio.run(_with_session(run)), indent=2))


@cli.command()
def report(
    region: str = typer.Option(None, help="Region code (default: REGION)"),
    start: str = typer.Option(..., "--from", help="First local date of receipt, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="Last local date of receipt, YYYY-MM-DD"),
    output: Path = typer.Option(Path("report.html"), help="Where to write the HTML report"),
) -> None:
    """Write the region's figures for a period as a self-contained HTML report (Dutch)."""
    from datetime import date

    from app.regions.config import load_region
    from app.statistics.api import build, check_period
    from app.statistics.report import render

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        check_period(first, last)
    except Exception as exc:
        detail = getattr(exc, "invalid_params", None) or str(exc)
        typer.echo(f"error: {detail}", err=True)
        raise typer.Exit(2) from None

    async def run(session: Any, settings: Settings) -> str:
        code = region or settings.region_codes[0]
        config = load_region(code)
        stats = await build(session, code, first, last)
        return render(stats, config.name, {p.code: p.name for p in config.programmes})

    html = asyncio.run(_with_session(run))
    output.write_text(html, encoding="utf-8")
    typer.echo(f"wrote {output}")


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Start signing with a new key; the old one verifies until it retires (KEY_RETIRE_AFTER_SECONDS).

    Running servers pick the new key up within KEY_REFRESH_SECONDS."""
    from datetime import timedelta

    from app.auth.keys import rotate

    async def run(session: Any, settings: Settings) -> str:
        kid = await rotate(session, timedelta(seconds=settings.key_retire_after_seconds))
        await _trail(session, AdminAction.SIGNING_KEY_ROTATED, f"signing key {kid}")
        return kid

    typer.echo(f"new signing key: {asyncio.run(_with_session(run))}")


@cli.command("generate-encryption-key")
def generate_encryption_key() -> None:
    """Print a new Fernet key (for ENCRYPTION_KEYS / ENCRYPTION_KEY_FILE)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@cli.command("rotate-encryption-key")
def rotate_encryption_key() -> None:
    """Re-encrypt every stored secret with the first configured encryption key.

    Put the new key in front of the old one (ENCRYPTION_KEYS="new,old") on every process,
    run this once, then drop the old key."""
    from sqlalchemy import text

    from app import crypto

    async def run(session: Any, settings: Settings) -> int:
        del settings
        keys = crypto.box()
        count = 0
        for table, column, primary_key in crypto.ENCRYPTED_COLUMNS:
            rows = await session.execute(
                text(f"SELECT {primary_key}, {column} FROM {table} WHERE {column} IS NOT NULL FOR UPDATE")  # noqa: S608 - names from a constant
            )
            for key, value in rows.all():
                await session.execute(
                    text(f"UPDATE {table} SET {column} = :value WHERE {primary_key} = :key"),  # noqa: S608
                    {"value": keys.rotate(value.encode()).decode(), "key": key},
                )
                count += 1
        await _trail(session, AdminAction.ENCRYPTION_KEY_ROTATED, f"{count} stored secrets re-encrypted")
        return count

    try:
        count = asyncio.run(_with_session(run))
    except crypto.EncryptionKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"re-encrypted {count} stored secrets with the first encryption key")


@audit_cli.command("verify")
def audit_verify(
    allow_no_checkpoint: bool = typer.Option(
        False,
        "--allow-no-checkpoint",
        help="Pass even when no checkpoint of this database is found (a truncated tail then goes unseen)",
    ),
) -> None:
    """Check the access log: every row's seal under the audit keys, every link, and every
    checkpoint kept outside the database (a cut tail). Exits 1 and names the row on a break,
    and when the log has rows but no checkpoint of this database is found."""
    from sqlalchemy import text

    from app.audit import checkpoints
    from app.audit import keys as audit_keys
    from app.audit.service import verify_chain

    async def run(session: Any, settings: Settings) -> Any:
        keys = audit_keys.keys()
        url = settings.database_url or ""
        path = checkpoints.path_for(settings, url)
        identity = checkpoints.database_identity(url)
        file = checkpoints.read(path, identity, keys)
        conn = await session.connection()
        result = await verify_chain(conn, keys, file.found, legacy_max_seq=settings.audit_legacy_max_seq)
        # The oldest row after the newest checkpoint: once a checkpoint was due for it and none
        # came, the workers stopped checkpointing and the unseen-cut window has no bound.
        newest = max((point.seq for point in file.found), default=None)
        uncovered = None
        if newest is not None:
            uncovered = (
                await conn.execute(
                    text("SELECT seq, at FROM access_log WHERE seq > :newest ORDER BY seq LIMIT 1"), {"newest": newest}
                )
            ).first()
        return result, file, path, identity, uncovered

    try:
        result, file, path, identity, uncovered = asyncio.run(_with_session(run))
    except Exception as exc:  # no key, unreadable file: say which, never a stack trace
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None
    for problem in file.problems:
        typer.echo(f"CHECKPOINT FILE {path}: {problem}")
    others = sum(file.other_databases.values())
    if others:
        names = ", ".join(sorted(file.other_databases))
        typer.echo(
            f"note: {path} has {others} line{'s' if others != 1 else ''} of another database ({names}); "
            f"this is {identity}"
        )
    if result.gaps:
        shown = ", ".join(str(seq) for seq in result.gaps[:5])
        typer.echo(f"note: seq gaps before {shown}{' …' if len(result.gaps) > 5 else ''} (the links across them hold)")
    if result.broken_seq is not None:
        typer.echo(
            f"BROKEN at access-log row seq={result.broken_seq}: {result.reason} "
            f"({result.checked} rows verified before it)"
        )
        raise typer.Exit(1)
    if file.problems:
        raise typer.Exit(1)
    if result.checked and not file.found:
        # Without a checkpoint, deleting the newest rows (or all of them) leaves a chain that holds.
        where = f"NO CHECKPOINT of {identity} in {path}"
        if not allow_no_checkpoint:
            typer.echo(
                f"{where}: a truncated tail cannot be detected. Check AUDIT_CHECKPOINT_FILE and DATABASE_URL "
                "(the ones the workers use), or pass --allow-no-checkpoint to accept that"
            )
            raise typer.Exit(1)
        typer.echo(f"WARNING: {where}: a truncated tail cannot be detected (--allow-no-checkpoint)")
    due = timedelta(seconds=2 * get_settings().audit_checkpoint_seconds)
    if uncovered is not None and uncovered.at < datetime.now(UTC) - due:
        typer.echo(
            f"WARNING: no checkpoint covers the rows from seq={uncovered.seq} (written {uncovered.at.isoformat()}) "
            f"on, though one is due every {get_settings().audit_checkpoint_seconds:g} s: the workers stopped "
            f"checkpointing to {path} (see `audit_checkpoint_failed` in their log); a cut there goes unseen"
        )
    typer.echo(f"ok: {result.checked} rows, chain intact, {len(file.found)} checkpoints of {path} hold")


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Append a signed checkpoint of the access log's newest row to the checkpoint file (the
    workers do this every AUDIT_CHECKPOINT_SECONDS)."""
    from app.audit import checkpoints
    from app.audit import keys as audit_keys
    from app.db import driver

    async def run(session: Any, settings: Settings) -> Any:
        return await checkpoints.write(await driver(session), settings, settings.database_url or "", audit_keys.keys())

    point = asyncio.run(_with_session(run))
    typer.echo(f"checkpoint: seq={point.seq}" if point else "the access log is empty: nothing to checkpoint")


@audit_cli.command("generate-key")
def audit_generate_key() -> None:
    """Print a new audit key (for AUDIT_KEYS / AUDIT_KEY_FILE)."""
    from app.audit.keys import new_key

    typer.echo(new_key())


@cli.command()
def openapi(output: Path = typer.Option(Path("openapi/openapi.json"), help="Where to write")) -> None:
    """Write the OpenAPI document generated from the app."""
    from app.main import create_app
    from app.openapi import build_openapi

    settings = get_settings().model_copy(update={"database_url": "postgresql://unused/unused"})
    text = json.dumps(build_openapi(create_app(settings)), indent=2, ensure_ascii=False) + "\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    typer.echo(f"wrote {output}")


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
