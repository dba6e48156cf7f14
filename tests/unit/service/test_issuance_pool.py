"""Signing in processes (service.issuance.SigningPool), without a database.

What it must keep: tokens signed in the processes are the same valid tokens the thread
path gives; a key's DER crosses to each process once; calls that queue for a busy
process go in one batch, and one bad call in a batch fails alone; a process that dies
costs no request (that call is signed in a thread, a fresh process takes over); the app's
lifespan starts and stops the pool and names the signing engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import date
from types import SimpleNamespace
from uuid import uuid4

import pytest

from crypto.tokens import TokenRequest, create_token_request, finalize_token
from service.errors import Problem
from service.issuance import THREAD_PERIOD, WAVE, Issuer, IssuerKey, SigningPool, generate_keys, signing_lifespan

KEK = bytes(range(32))
TIMEOUT = 60


@pytest.fixture(scope="module")
def wave_key() -> IssuerKey:
    return asyncio.run(generate_keys(WAVE, uuid4(), issuer_name="candor.example", kek=KEK))


@pytest.fixture(scope="module")
def thread_key() -> IssuerKey:
    return asyncio.run(generate_keys(THREAD_PERIOD, date(2024, 5, 1), issuer_name="candor.example", kek=KEK))


def _requests(key: IssuerKey, count: int):
    return [create_token_request(key.token_key, key.challenge) for _ in range(count)]


def _finalized(body: bytes, made) -> None:
    assert len(body) == 256 * len(made)
    for i, (_, state) in enumerate(made):
        finalize_token(state, body[i * 256:(i + 1) * 256])  # raises unless the signature verifies


class Recorder:
    """Records what the pool sends to its processes (in this process, before pickling)."""

    def __init__(self, pool: SigningPool) -> None:
        self.sent: list[tuple[int, list]] = []
        for index, process in enumerate(pool._processes):
            self.wrap(index, process)

    def wrap(self, index: int, process) -> None:
        submit = process.executor.submit

        def recording(fn, *args):
            if args:
                self.sent.append((index, list(args[0])))
            return submit(fn, *args)

        process.executor.submit = recording


async def _issue_all(issuer: Issuer, calls):
    return await asyncio.wait_for(asyncio.gather(*(issuer.issue(key, [r for r, _ in made]) for key, made in calls)),
                                  TIMEOUT)


async def test_tokens_signed_in_processes_are_valid_and_each_key_crosses_once(wave_key, thread_key):
    pool = SigningPool(2)
    issuer = Issuer(KEK)
    issuer.pool = pool
    try:
        await asyncio.wait_for(pool.start(), TIMEOUT)
        recorder = Recorder(pool)
        calls = [(wave_key, _requests(wave_key, 1)) if i % 2 else (thread_key, _requests(thread_key, 10))
                 for i in range(24)]
        for _ in range(2):  # a second burst: the processes already hold both keys
            bodies = await _issue_all(issuer, calls)
            for body, (_, made) in zip(bodies, calls, strict=True):
                _finalized(body, made)
    finally:
        await pool.close()
    sent_der = [(index, batch.identity) for index, batches in recorder.sent for batch in batches if batch.der]
    assert len(sent_der) == len(set(sent_der)) <= 4  # each key to each process at most once
    assert {identity for _, identity in sent_der} == {wave_key.identity, thread_key.identity}
    seen: set[tuple[int, bytes]] = set()
    for index, batches in recorder.sent:  # the key goes with the first batch of it a process gets, never later
        for batch in batches:
            first = (index, batch.identity) not in seen
            assert (batch.der is not None) == first, (index, first)
            seen.add((index, batch.identity))


async def test_calls_queued_for_a_busy_process_go_in_one_batch(wave_key, thread_key):
    pool = SigningPool(1)
    issuer = Issuer(KEK)
    issuer.pool = pool
    try:
        await asyncio.wait_for(pool.start(), TIMEOUT)
        await _issue_all(issuer, [(wave_key, _requests(wave_key, 1)), (thread_key, _requests(thread_key, 1))])
        recorder = Recorder(pool)
        # One sign-in's wave and thread requests, and 9 more sign-ins, all at once (keys unwrapped).
        calls = [(wave_key, _requests(wave_key, 1)), (thread_key, _requests(thread_key, 10))] * 10
        bodies = await _issue_all(issuer, calls)
    finally:
        await pool.close()
    for body, (_, made) in zip(bodies, calls, strict=True):
        _finalized(body, made)
    # The first call finds the process idle; all the others queue behind it and go together.
    assert [len(batches) for _, batches in recorder.sent] == [1, 19]


async def test_one_malformed_call_in_a_batch_fails_alone(wave_key):
    pool = SigningPool(1)
    issuer = Issuer(KEK)
    issuer.pool = pool
    good = [_requests(wave_key, 1) for _ in range(5)]
    n_bytes = b"\xff" * 256  # not below n: "message representative out of range"
    bad = TokenRequest(2, wave_key.token_key_id[-1], n_bytes)
    try:
        await asyncio.wait_for(pool.start(), TIMEOUT)
        results = await asyncio.wait_for(asyncio.gather(
            *(issuer.issue(wave_key, [r for r, _ in made]) for made in good[:2]),
            issuer.issue(wave_key, [bad]),
            *(issuer.issue(wave_key, [r for r, _ in made]) for made in good[2:]),
            return_exceptions=True), TIMEOUT)
    finally:
        await pool.close()
    failed = results.pop(2)
    assert isinstance(failed, Problem) and failed.status_code == 400
    for body, made in zip(results, good, strict=True):
        assert isinstance(body, bytes)
        _finalized(body, made)


async def test_a_process_that_dies_costs_no_request(wave_key, caplog):
    pool = SigningPool(1)
    issuer = Issuer(KEK)
    issuer.pool = pool
    try:
        await asyncio.wait_for(pool.start(), TIMEOUT)
        first = pool._processes[0].executor
        pid = await asyncio.wrap_future(first.submit(os.getpid))
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        made = _requests(wave_key, 3)
        with caplog.at_level(logging.WARNING, logger="candor.issuance"):
            _finalized(await asyncio.wait_for(issuer.issue(wave_key, [r for r, _ in made]), TIMEOUT), made)
        assert "signing process failed" in caplog.text
        assert pool._processes[0].executor is not first  # replaced
        recorder = Recorder(pool)
        made = _requests(wave_key, 2)
        _finalized(await asyncio.wait_for(issuer.issue(wave_key, [r for r, _ in made]), TIMEOUT), made)
        assert len(recorder.sent) == 1 and recorder.sent[0][1][0].der  # the new process got the key
    finally:
        await pool.close()


async def test_a_closed_pool_leaves_signing_to_a_thread(wave_key):
    pool = SigningPool(1)
    issuer = Issuer(KEK)
    issuer.pool = pool
    await pool.close()
    made = _requests(wave_key, 2)
    _finalized(await asyncio.wait_for(issuer.issue(wave_key, [r for r, _ in made]), TIMEOUT), made)


async def test_the_lifespan_starts_and_stops_the_pool_and_names_the_engine(wave_key, caplog):
    app = SimpleNamespace(state=SimpleNamespace(issuer=Issuer(KEK)))
    with caplog.at_level(logging.INFO, logger="candor.issuance"):
        async with signing_lifespan(2)(app):
            pool = app.state.issuer.pool
            assert isinstance(pool, SigningPool) and pool.size == 2
            made = _requests(wave_key, 1)
            _finalized(await asyncio.wait_for(app.state.issuer.issue(wave_key, [r for r, _ in made]), TIMEOUT),
                       made)
            executors = [p.executor for p in pool._processes]
    assert app.state.issuer.pool is None
    assert "blind signing: OpenSSL RSA private operation" in caplog.text
    assert "2 signing processes" in caplog.text
    for executor in executors:
        with pytest.raises(RuntimeError):
            executor.submit(os.getpid)  # shut down


async def test_without_processes_the_lifespan_says_so_and_signing_stays_in_a_thread(monkeypatch, wave_key, caplog):
    import service.issuance as issuance

    def unavailable(processes=None):
        raise OSError("no semaphores on this system")

    monkeypatch.setattr(issuance, "SigningPool", unavailable)
    app = SimpleNamespace(state=SimpleNamespace(issuer=Issuer(KEK)))
    with caplog.at_level(logging.INFO, logger="candor.issuance"):
        async with signing_lifespan()(app):
            assert app.state.issuer.pool is None
            made = _requests(wave_key, 2)
            _finalized(await asyncio.wait_for(app.state.issuer.issue(wave_key, [r for r, _ in made]), TIMEOUT),
                       made)
    warning = next(r for r in caplog.records if r.name == "candor.issuance")
    assert warning.levelno == logging.WARNING
    assert "signing processes unavailable: no semaphores on this system" in warning.getMessage()
