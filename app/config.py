"""All settings in one place, read from the environment (prefix-free names) and `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.vocab import OAuthScope

API_VERSION = "1.0.0"


class ExternalMappingRule(BaseModel):
    """One line of EXTERNAL_MAPPING: tokens of `issuer` whose claim `claim` is (or, for a list
    claim such as `groups`, contains) `value` act for `organisation` with at most `scopes`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1)
    claim: str = Field(default="groups", min_length=1)
    value: str = Field(min_length=1)
    organisation: str = Field(min_length=2, max_length=64)
    scopes: tuple[OAuthScope, ...] = Field(min_length=1)


class Environment(StrEnum):
    """ENVIRONMENT: development generates missing keys into DATA_DIR; production refuses to
    start without them (`Settings.production_problems`)."""

    development = "development"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Field(
        default=Environment.development,
        description=(
            "`production`: the service refuses to start without DATABASE_URL (no embedded PostgreSQL), "
            "AUDIT_KEYS/AUDIT_KEY_FILE and ENCRYPTION_KEYS/ENCRYPTION_KEY_FILE; "
            "`development`: missing keys are generated into DATA_DIR. "
            "The container image sets `production`."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://… of the server to use; unset: embedded PostgreSQL in data_dir.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description=(
            "postgresql://… of the tables' owner: migrations run as it, then DATABASE_URL's user (the service) is "
            "granted only what it needs (it cannot alter, update or delete the access log). Unset: DATABASE_URL."
        ),
    )
    data_dir: Path = Field(default=Path(".data"), description="Where the embedded server keeps data.")
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = Field(
        default="",
        description="Base URL put in webhook payloads (the API URL receivers fetch with); default http://HOST:PORT.",
    )
    regions: str | None = Field(
        default=None,
        description="Comma-separated region codes this deployment serves (files app/regions/<code>.yaml); "
        "default `rotterdam`. The first is the default region of `create-client`.",
    )
    region: str | None = Field(default=None, description="Deprecated alias of REGIONS with one region.")
    metrics_token: str | None = Field(
        default=None, description="Bearer token a Prometheus scraper sends to /metrics; unset: /metrics answers 404."
    )
    run_workers: bool = Field(default=True, description="`serve` also runs the background workers in-process.")
    log_level: str = "INFO"
    router: str = Field(default="rules", description="Name of the router in entry-point group aanmeldpunt.routers.")

    # Tokens
    token_issuer: str = "urn:aanmeldpunt"  # noqa: S105 - an issuer name, not a secret
    token_audience: str = "urn:aanmeldpunt:api"  # noqa: S105
    token_lifetime_seconds: int = 900
    key_retire_after_seconds: int = Field(
        default=86_400,
        description="A rotated-out signing key stays in the JWKS this long (longer than a token lives).",
    )
    client_status_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=5,
        description=(
            "A client's active state is re-read from the database when the copy in memory is older than this; "
            "a client deactivated on another replica is refused at most this long after (at once on this one)."
        ),
    )
    key_refresh_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="A running server re-reads the signing keys this long after the last read at most (rotate-keys).",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet keys (comma-separated, newest first) that encrypt private signing keys and webhook secrets "
            "at rest; production must set this or ENCRYPTION_KEY_FILE."
        ),
    )
    encryption_key_file: Path | None = Field(
        default=None,
        description="A file with the Fernet keys, one a line, newest first (instead of ENCRYPTION_KEYS).",
    )
    external_issuer: str | None = Field(default=None, description="Issuer of staff tokens from an external IdP.")
    external_audience: str | None = None
    external_jwks_url: str | None = None
    external_mapping: list[ExternalMappingRule] = Field(
        default_factory=list,
        description=(
            "JSON list of rules {issuer, claim (default groups), value, organisation, scopes}: an external "
            "token acts for the organisation of the rule its claim matches, with at most the rule's scopes "
            "(intersected with the token's own `scope` claim when it has one); a token no rule matches is 403."
        ),
    )

    # The access log (app.audit.keys, app.audit.checkpoints)
    audit_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Keys (comma-separated, newest first, 32+ characters) that seal the access log; the database never "
            "holds them. Production must set this or AUDIT_KEY_FILE; keep every older key while its rows exist."
        ),
    )
    audit_key_file: Path | None = Field(
        default=None, description="A file with the audit keys, one a line, newest first (instead of AUDIT_KEYS)."
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description=(
            "Where checkpoints of the access log's head are appended (JSON lines); default "
            "DATA_DIR/audit-checkpoints/<database>.jsonl. Keep it off the database host."
        ),
    )
    audit_legacy_max_seq: int | None = Field(
        default=None,
        ge=0,
        description=(
            "The last access-log seq written before the audit key existed (rows without a key id, "
            "plain SHA-256): `audit verify` accepts unkeyed rows only up to it. Unset: none (any "
            "unkeyed row is a failure). Set it once, from the upgrade's records, where the database's "
            "administrators cannot change it."
        ),
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0, gt=0, description="The workers write a checkpoint this often (the window of an unseen cut)."
    )

    # Limits
    self_registration_rate: int = Field(default=5, description="Self-registrations per caller address per window.")
    self_registration_window_seconds: int = 3600
    token_rate: int = Field(default=30, description="Token requests per caller address per minute.")
    form_secret: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs the CSRF token of the form at /aanmelden; set it (the same on every replica) when "
            "more than one process serves the form. Unset: a random key per process."
        ),
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (e.g. the self-registration form's site).",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description=(
            "JSON list of CIDRs of the reverse proxies in front of the service, e.g. "
            '["10.0.0.0/8"]; only from these is X-Forwarded-For believed (rightmost untrusted hop).'
        ),
    )
    max_body_bytes: int = 262_144
    db_statement_timeout_ms: int = 10_000
    db_pool_size: int = 10

    # Webhooks
    webhook_allow_loopback_http: bool = Field(
        default=False, description="Allow http:// webhook URLs on loopback (development and tests)."
    )
    webhook_timeout_seconds: float = 15.0
    webhook_secret_overlap_seconds: int = 86_400
    webhook_batch_size: int = 20
    webhook_lease_seconds: int = 60
    worker_poll_seconds: float = 2.0

    # Statistics
    research_pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Key of the keyed hash (HMAC-SHA256) that pseudonymises the research export; unset: no export.",
    )

    # Deadlines
    approaching_working_days: int = 1

    @model_validator(mode="after")
    def _public_base_url_follows_host_and_port(self) -> Settings:
        if not self.public_base_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104 - a comparison
            host = f"[{host}]" if ":" in host else host
            self.public_base_url = f"http://{host}:{self.port}"
        return self

    def production_problems(self) -> list[str]:
        """What production requires and is missing: the secrets development generates into
        DATA_DIR, which in production would be a key next to the data it protects, silently
        new on every fresh volume. Empty in development."""
        if self.environment != Environment.production:
            return []
        problems = []
        if not self.database_url:
            # Else `serve`/`worker`/`migrate` start the embedded server, which trusts every local
            # connection and keeps the data on the container's own volume.
            problems.append("DATABASE_URL must be set (the embedded PostgreSQL is for development)")
        if not _set(self.audit_keys) and not self.audit_key_file:
            problems.append("AUDIT_KEYS or AUDIT_KEY_FILE must be set (aanmeldpunt audit generate-key)")
        if not _set(self.encryption_keys) and not self.encryption_key_file:
            problems.append("ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE must be set (aanmeldpunt generate-encryption-key)")
        if self.webhook_allow_loopback_http:
            # A development switch: in production it would let a subscription reach the host itself.
            problems.append("WEBHOOK_ALLOW_LOOPBACK_HTTP must not be set in production")
        return problems

    @property
    def region_codes(self) -> list[str]:
        """REGIONS, else the deprecated REGION, else rotterdam."""
        raw = self.regions or self.region or "rotterdam"
        return [code.strip() for code in raw.split(",") if code.strip()]

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if not value.startswith("postgresql"):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value


def _set(secret: SecretStr | None) -> bool:
    return bool(secret and secret.get_secret_value().strip())


@lru_cache
def get_settings() -> Settings:
    return Settings()


def async_url(url: str) -> str:
    """SQLAlchemy wants the driver in the scheme."""
    scheme, rest = url.split("://", 1)
    return "postgresql+asyncpg://" + rest if "+" not in scheme else url
