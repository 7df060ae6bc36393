"""Large datasets for the benchmarks, made inside PostgreSQL (INSERT … SELECT FROM
generate_series), not through the API: 100k intakes and 5M audit rows take seconds."""

from __future__ import annotations

import asyncpg

INTAKES = """
INSERT INTO intakes (id, reference, region, status, source, received_at, client, pregnancy, children, concerns,
    safety_concern, vulnerability, next_deadline_at, excluded_programmes, possible_duplicates, version,
    legal_basis, closed_at, close_reason, family_name_key, birth_date, postcode, created_by_client)
SELECT gen_random_uuid(), 'S' || lpad((g + $3)::text, 11, '0'), 'rotterdam',
    CASE WHEN $2 THEN 'received' ELSE 'closed' END, 'referral',
    now() - make_interval(mins => g),
    jsonb_build_object('givenName', 'Seed', 'familyName', 'Seed' || (g + $3), 'birthDate', '2000-01-01'),
    '{"pregnant": true, "dueDate": "2027-05-01", "firstChild": true}', '[]',
    '[{"code": "debts", "source": "referral"}, {"code": "stress", "source": "referral"}]',
    false, 'vulnerable',
    CASE WHEN $2 THEN now() + make_interval(days => 1 + g % 60, secs => g) ELSE NULL END,
    '{}', '{}', 1, 'consent',
    CASE WHEN $2 THEN NULL ELSE now() - make_interval(mins => g) + interval '30 days' END,
    CASE WHEN $2 THEN NULL ELSE 'support_started' END,
    'seed' || (g + $3), DATE '2000-01-01', '3073AB', 'seed'
FROM generate_series(1, $1) g
RETURNING id
"""

DEADLINES = """
INSERT INTO deadlines (id, intake_id, phase, due_at, approaching_at)
SELECT gen_random_uuid(), i.id, p.phase,
    now() + make_interval(days => 5 + p.n * 10), now() + make_interval(days => 4 + p.n * 10)
FROM intakes i CROSS JOIN (VALUES ('response', 0), ('intake', 1), ('support_start', 2)) AS p(phase, n)
WHERE i.reference LIKE 'S%' AND i.closed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM deadlines d WHERE d.intake_id = i.id)
"""

# Each row links onto the one before (access_log_chain_guard, migration 0012, refuses anything
# else); the seals are stand-ins (the service never verifies them here). $2: how many seeded
# before, $3: the head's hash.
AUDIT = """
INSERT INTO access_log (id, at, action, intake_id, client_id, organisation, user_id, basis, emergency, prev_hash, hash)
SELECT gen_random_uuid(), now() - make_interval(secs => $1 + $2 - g), 'read', NULL, 'seed', 'aanmeldpunt-rotterdam',
    NULL, 'processing', false,
    CASE WHEN g = $2 + 1 THEN $3 ELSE md5((g - 1)::text) || md5(g::text) END, md5(g::text) || md5((g + 1)::text)
FROM generate_series($2 + 1, $2 + $1) g
"""
HEAD = "SELECT hash FROM access_log ORDER BY seq DESC LIMIT 1"


async def intakes(conn: asyncpg.Connection, count: int, *, open_: bool, offset: int = 0) -> int:
    rows = await conn.fetch(INTAKES, count, open_, offset)
    return len(rows)


async def deadlines_for_open(conn: asyncpg.Connection) -> None:
    await conn.execute(DEADLINES)


async def due_now(conn: asyncpg.Connection, count: int) -> None:
    """Make `count` open deadlines due for `deadline.approaching` right now."""
    await conn.execute(
        """UPDATE deadlines SET approaching_at = now() - interval '1 minute'
           WHERE id IN (SELECT id FROM deadlines WHERE met_at IS NULL AND approaching_emitted_at IS NULL
                        ORDER BY id LIMIT $1)""",
        count,
    )


async def audit_rows(conn: asyncpg.Connection, count: int) -> None:
    # In batches, so one statement's memory stays small.
    step = 1_000_000
    for start in range(0, count, step):
        head = await conn.fetchval(HEAD) or "0" * 64
        await conn.execute(AUDIT, min(step, count - start), start, head)


async def analyze(conn: asyncpg.Connection) -> None:
    """Bring freshly loaded tables to the steady state of a long-running database, so that
    autovacuum does not run on them in the middle of a measurement."""
    await conn.execute("VACUUM (ANALYZE)")
    await conn.execute("CHECKPOINT")


async def worklist(conn: asyncpg.Connection, open_count: int = 500, total: int = 1000) -> None:
    """The worklist's 1k database: `open_count` open intakes with their deadlines, the rest
    closed, analysed. B2, `make bench-cpu` and `make profile` measure on it."""
    await intakes(conn, open_count, open_=True)
    await intakes(conn, total - open_count, open_=False, offset=open_count)
    await deadlines_for_open(conn)
    await analyze(conn)
