"""Red team (issue 13): a receiver that answers slowly or without end must not hold the
dispatcher. The timeout of a delivery is for the whole answer, not for each read, and no more
of the answer than the kept excerpt is read: a receiver dripping a byte at a time, or sending
an endless body, would otherwise hold the whole batch (every other subscriber's deliveries
wait for it in `deliver_once`) and fill the worker's memory."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.webhooks import dispatcher
from app.webhooks.signing import new_secret


async def _serve(body_chunk: bytes, pause: float) -> tuple[asyncio.Server, list[int]]:
    """An HTTP server on loopback that answers 200 and then sends `body_chunk` every `pause`
    seconds, without end (chunked); counts the bytes it got out."""
    sent = [0]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
            while True:
                writer.write(f"{len(body_chunk):x}\r\n".encode() + body_chunk + b"\r\n")
                await writer.drain()
                sent[0] += len(body_chunk)
                await asyncio.sleep(pause)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, sent


def _job(port: int) -> dispatcher.Job:
    return dispatcher.Job(
        delivery_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        event_type="intake.received",
        intake_id=None,
        attempts=0,
        url=f"http://127.0.0.1:{port}/hook",
        secrets=[new_secret()],
        body=b"{}",
        subscription_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        organisation_kind="aanmeldpunt",
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=1.0, follow_redirects=False) as client:
        yield client


@pytest.mark.parametrize(
    ("chunk", "pause"),
    [(b"x", 0.2), (b"y" * 65536, 0.0)],
    ids=["a byte at a time", "an endless fast body"],
)
async def test_a_receiver_cannot_hold_a_delivery_beyond_its_timeout(
    settings, http: httpx.AsyncClient, chunk: bytes, pause: float
) -> None:
    quick = settings.model_copy(update={"webhook_timeout_seconds": 1.0, "webhook_allow_loopback_http": True})
    server, sent = await _serve(chunk, pause)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        outcome = await asyncio.wait_for(dispatcher.post(http, _job(port), quick), timeout=20)
        took = time.monotonic() - started
    finally:
        server.close()
    assert took < 3, f"the delivery took {took:.1f}s against a 1s timeout"
    # the status arrived; the answer's excerpt is short whatever the receiver sent
    assert outcome.status_code == 200 or outcome.error is not None
    assert outcome.excerpt is None or len(outcome.excerpt) <= dispatcher.EXCERPT
    assert sent[0] < 64 * 1024 * 1024, "the dispatcher read an unbounded answer"
