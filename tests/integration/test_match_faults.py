"""Match runs under faults, on a real worker, against a Redis and a PostgreSQL of their own.

Each scenario breaks something a real deployment meets (lists edited while a run reads them, a
Redis restart mid-run and during a run's start delay, a PostgreSQL restart in the overlap write, a
SIGKILL of the worker) and checks that the runs finish by themselves, end with the overlaps of a
clean full run on the final data, and leave no run queued or running and no duplicate overlap.

The servers are throwaway ones (tests/integration/throwaway.py): the shared ones are never touched.
Without redis-server or initdb the tests skip, and fail under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count

from accounts.models import Role
from bench.generate import generate_pair
from mapping.lists.services.imports import account_records_push
from mapping.lists.services.lists import account_list_create
from mapping.matching.services.runs import match_run_execute, match_run_request
from mapping.models import AccountList, AccountRecord, MatchRun, Overlap
from tests.conftest import require_service
from tests.factories import OrganizationFactory, PartnershipFactory, member
from tests.integration.conftest import start_worker, stop_worker, worker_log
from tests.integration.throwaway import ThrowawayPostgres, ThrowawayRedis

pytestmark = [pytest.mark.celery_worker, pytest.mark.faults]

N = 8_000  # records per list: a run lasts a few seconds here, long enough to break it midway

# The worker's and this process's timings: beats every second, lost after 4 s without one, the
# watchdog every second, a queued run re-sent 3 s past its due time.
FAST = {
    "MATCH_HEARTBEAT_SECONDS": "1",
    "MATCH_RUN_STALE_SECONDS": "4",
    "MATCH_WATCHDOG_SECONDS": "1",
    "MATCH_QUEUED_GRACE_SECONDS": "3",
    "MATCH_DEBOUNCE_SECONDS": "0",
}


@dataclass
class Servers:
    redis: ThrowawayRedis
    postgres: ThrowawayPostgres


_BROKER_KEYS = ("broker_url", "broker_write_url", "broker_read_url", "result_backend")


def _point_celery_at(url: str, queue: str | None = None) -> dict:
    """Make this process publish to `url` (connection_for_write reads broker_write_url, which the
    app derived from the Django setting at start)."""
    from prm.celery import app

    before = {key: app.conf.get(key) for key in (*_BROKER_KEYS, "task_default_queue")}
    for key in _BROKER_KEYS:
        app.conf[key] = url
    if queue:
        app.conf.task_default_queue = queue
    app._pool = None  # the producer pools were made for the other broker
    app.amqp._producer_pool = None
    return before


def _restore_celery(before: dict) -> None:
    from prm.celery import app

    for key, value in before.items():
        app.conf[key] = value
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def servers(django_db_blocker):
    # The test process talks to the throwaway cluster through Django's PostgreSQL backend, so the
    # project's own database must be PostgreSQL too (the SQLite default skips these tests).
    require_service(
        "PostgreSQL", connections["default"].vendor == "postgresql", "set DATABASE_URL to PostgreSQL"
    )
    redis, postgres = ThrowawayRedis(), ThrowawayPostgres()
    try:
        redis_up = redis.start()
        postgres_up = postgres.start()
        if not (redis_up and postgres_up):
            require_service(
                "throwaway Redis and PostgreSQL",
                False,
                "redis-server failed to start" if not redis_up else postgres.error or "initdb failed",
            )
        with psycopg.connect(
            host="127.0.0.1", port=postgres.port, user="postgres", dbname="postgres", autocommit=True
        ) as admin:
            admin.execute("CREATE DATABASE prm_faults")
        with django_db_blocker.unblock():
            default = connections["default"]
            saved = dict(default.settings_dict)
            default.close()
            default.settings_dict.update(
                NAME="prm_faults", HOST="127.0.0.1", PORT=str(postgres.port), USER="postgres", PASSWORD=""
            )
            try:
                call_command("migrate", verbosity=0)
                yield Servers(redis=redis, postgres=postgres)
            finally:
                default.close()
                default.settings_dict.clear()
                default.settings_dict.update(saved)
    finally:
        redis.remove()
        postgres.remove()


@dataclass
class FaultWorld:
    servers: Servers
    queue: str
    partnership: object
    owner: object
    partner: object
    owner_org: object
    partner_org: object
    workers: list

    def start_worker(self, **env) -> object:
        proc = start_worker(
            self.queue,
            concurrency=2,
            CELERY_BROKER_URL=self.servers.redis.url,
            CELERY_RESULT_BACKEND=self.servers.redis.url,
            **{**FAST, **env},
        )
        self.workers.append(proc)
        return proc


@pytest.fixture
def world(servers, settings):
    from prm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    before = _point_celery_at(servers.redis.url, queue)
    settings.CELERY_BROKER_URL = servers.redis.url
    with app.producer_or_acquire() as producer:  # what the services below publish to
        assert producer.connection.as_uri().endswith(f":{servers.redis.port}/0")
    for name, value in FAST.items():
        setattr(settings, name, float(value))
    owner_org, partner_org = OrganizationFactory(), OrganizationFactory()
    handle = FaultWorld(
        servers=servers,
        queue=queue,
        partnership=PartnershipFactory(initiator=owner_org, partner=partner_org),
        owner=member(owner_org, Role.PARTNER_MANAGER),
        partner=member(partner_org, Role.PARTNER_MANAGER),
        owner_org=owner_org,
        partner_org=partner_org,
        workers=[],
    )
    try:
        yield handle
    finally:
        for proc in handle.workers:
            stop_worker(proc, kill=True)
        _restore_celery(before)


# --- helpers ---------------------------------------------------------------------------------------


def _rows(frame, prefix):
    return [
        {
            "name": r["name"] or "",
            "website": r["website"] or "",
            "country": r["country"] or "",
            "city": r["city"] or "",
            "postal_code": r["postal_code"] or "",
            "owner_email": r["email"] or "",
            "crm_id": f"{prefix}{rid}",
        }
        for rid, r in frame.fillna("").iterrows()
    ]


def _push(actor, account_list, rows):
    for start in range(0, len(rows), 10_000):
        account_records_push(
            actor=actor, account_list=account_list, records=rows[start : start + 10_000], mode="merge"
        )


def _lists(world, n=N, seed=21):
    left, right, _truth = generate_pair(n=n, seed=seed)
    mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
    return mine, theirs, _rows(left, "L"), _rows(right, "R")


def _active(partnership) -> list:
    return list(
        MatchRun.objects.filter(partnership=partnership, status__in=MatchRun.ACTIVE).values_list(
            "id", "status", "attempts", "error"
        )
    )


def _wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # the database restarting under us: ask again
            connection.close()
            value = None
        if value:
            return value
        time.sleep(interval)
    runs = list(
        MatchRun.objects.order_by("id").values_list("id", "status", "kind", "trigger", "attempts", "error")
    )
    raise AssertionError(f"timed out waiting for {what}; runs: {runs}")


def _settled(world, timeout: float = 90) -> float:
    """Seconds until no run of the partnership is queued or running."""
    t0 = time.monotonic()
    _wait(lambda: not _active(world.partnership), timeout, "the runs to settle")
    return time.monotonic() - t0


def _overlaps(partnership) -> set:
    return set(
        Overlap.objects.filter(partnership=partnership).values_list(
            "left_record_id", "right_record_id", "status", "score", "reasons"
        )
    )


def _assert_clean_run_agrees(world) -> set:
    """A clean full run on the final data (here, in this process) changes nothing; no duplicates,
    nothing left queued or running."""
    assert not _active(world.partnership)
    stored = _overlaps(world.partnership)
    clean = MatchRun.objects.create(partnership=world.partnership, trigger="clean", kind=MatchRun.Kind.FULL)
    assert match_run_execute(run_id=clean.pk) == "succeeded"
    clean.refresh_from_db()
    assert _overlaps(world.partnership) == stored
    assert (clean.overlaps_added, clean.overlaps_removed, clean.overlaps_updated) == (0, 0, 0)
    pairs = Overlap.objects.filter(partnership=world.partnership)
    assert (
        not pairs.values("left_record_id", "right_record_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    )
    for side in ("left_record_id", "right_record_id"):  # one-to-one (no reviewer confirmed anything here)
        assert not pairs.values(side).annotate(n=Count("id")).filter(n__gt=1).exists()
    assert not _active(world.partnership)
    return stored


def _running(world, timeout=60) -> MatchRun:
    return _wait(
        lambda: MatchRun.objects.filter(partnership=world.partnership, status="running").first(),
        timeout,
        "a running run",
        interval=0.02,
    )


def _first_runs(world, mine, theirs, rows_left, rows_right) -> None:
    _push(world.owner, mine, rows_left)
    _push(world.partner, theirs, rows_right)
    _settled(world)
    assert MatchRun.objects.filter(partnership=world.partnership, status="succeeded", list_pairs=1).exists()


# --- scenarios ------------------------------------------------------------------------------------


def test_edits_committed_while_runs_load_end_equal_to_a_clean_full_run(world):
    """Bursts of edits commit all through a chain of runs (many during their load phase). Before
    the snapshot fix, a run marked change sets that committed while it loaded as seen: those edits
    were lost for good (extra and missing pairs)."""
    world.start_worker()
    mine, theirs, rows_left, rows_right = _lists(world)
    _first_runs(world, mine, theirs, rows_left, rows_right)
    matched = list(
        Overlap.objects.filter(partnership=world.partnership, status="match")
        .order_by("left_record_id")
        .values_list("left_record__crm_id", flat=True)
    )
    by_crm = {row["crm_id"]: row for row in rows_left}
    edited, batch, deadline = 0, 8, time.monotonic() + 10
    while time.monotonic() < deadline and edited + batch <= len(matched):
        # Renamed to something else and stripped of its website: it must lose its overlap.
        rows = [
            {
                **by_crm[crm],
                "name": f"Qzx Renamed {crm} {uuid.uuid4().hex[:6]}",
                "website": "",
                "owner_email": "",
            }
            for crm in matched[edited : edited + batch]
        ]
        _push(world.owner, mine, rows)
        edited += batch
        time.sleep(0.05)
    assert edited >= 80
    took = _settled(world)
    print(
        f"edits during loads: {edited} records edited in {edited // batch} commits; "
        f"settled {took:.1f}s after the last one"
    )
    runs = MatchRun.objects.filter(partnership=world.partnership)
    assert runs.filter(status="succeeded").count() >= 3  # the edits went through several runs
    last = runs.filter(status="succeeded").order_by("-id").first()
    newest = mine.changesets.order_by("-id").values_list("id", flat=True).first()
    assert last.covered[str(mine.pk)] == newest  # what the last run covered: every change of the list
    stored = _assert_clean_run_agrees(world)
    renamed = set(
        AccountRecord.objects.filter(account_list=mine, name__startswith="Qzx Renamed").values_list(
            "id", flat=True
        )
    )
    assert len(renamed) == edited
    assert not {left for left, _r, status, _s, _x in stored if status == "match"} & renamed


def test_worker_survives_a_redis_restart_mid_run_and_the_run_finishes(world):
    proc = world.start_worker()
    mine, theirs, rows_left, rows_right = _lists(world, n=15_000, seed=22)
    _push(world.owner, mine, rows_left)
    _settled(world)
    _push(world.partner, theirs, rows_right)  # the run that matches both lists
    run = _running(world)
    t0 = time.monotonic()
    world.servers.redis.stop()  # while the worker runs the task (its message not yet acknowledged)
    run.refresh_from_db()
    assert run.status == "running", "the run ended before Redis went down: make the lists bigger"
    time.sleep(1.0)
    assert world.servers.redis.start()
    _settled(world, timeout=60)
    took = time.monotonic() - t0
    assert proc.poll() is None, worker_log(world.queue)[-3000:]  # reconnected instead of exiting
    assert "Unrecoverable error" not in worker_log(world.queue)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    print(f"redis restart mid-run: finished by itself in {took:.1f}s")
    _assert_clean_run_agrees(world)


def test_a_run_waiting_for_its_start_when_redis_restarts_is_sent_again(world, settings):
    proc = world.start_worker()
    mine, theirs, rows_left, rows_right = _lists(world, n=2_000, seed=23)
    _first_runs(world, mine, theirs, rows_left, rows_right)
    settings.MATCH_DEBOUNCE_SECONDS = 4.0  # the run's message waits 4 s (an ETA task held by the worker)
    run = match_run_request(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    time.sleep(1.0)
    t0 = time.monotonic()
    assert world.servers.redis.restart(down_for=1.0)  # no persistence: the message is gone
    took = _settled(world, timeout=60)
    assert proc.poll() is None, worker_log(world.queue)[-3000:]
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    print(
        f"redis restart during the start delay: finished by itself {took:.1f}s after the restart "
        f"({time.monotonic() - t0:.1f}s)"
    )
    _assert_clean_run_agrees(world)


def _in_overlap_write(port: int) -> bool:
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'prm_faults' AND xact_start IS NOT NULL"
            " AND pid <> pg_backend_pid() AND query ILIKE 'INSERT INTO \"mapping_overlap\"%%'"
        ).fetchone()
    return bool(row[0])


def test_a_postgres_restart_during_the_overlap_write_is_recorded_and_the_run_done_again(world):
    proc = world.start_worker()
    mine, theirs, rows_left, rows_right = _lists(world, seed=24)
    _push(world.owner, mine, rows_left)
    _settled(world)
    _push(world.partner, theirs, rows_right)  # this run writes every overlap: a long write
    port = world.servers.postgres.port
    _wait(lambda: _in_overlap_write(port), 60, "the overlap write", interval=0.01)
    t0 = time.monotonic()
    assert world.servers.postgres.restart(), world.servers.postgres.error
    connection.close()  # ours died too
    took = _settled(world, timeout=90)
    assert proc.poll() is None
    runs = list(MatchRun.objects.filter(partnership=world.partnership).order_by("id"))
    failed = [r for r in runs if r.status == "failed"]
    assert failed, [(r.pk, r.status, r.error) for r in runs]
    assert failed[0].error and failed[0].finished_at  # written on a fresh connection
    assert runs[-1].status == "succeeded" and runs[-1].trigger.startswith("retry of run")
    print(
        f"postgres restart mid-write: error {failed[0].error[:80]!r}; retry done {took:.1f}s later "
        f"({time.monotonic() - t0:.1f}s)"
    )
    _assert_clean_run_agrees(world)


def test_a_run_whose_worker_is_killed_finishes_soon_after_a_new_worker_starts(world):
    first = world.start_worker()
    mine, theirs, rows_left, rows_right = _lists(world, n=15_000, seed=25)
    _push(world.owner, mine, rows_left)
    _settled(world)
    _push(world.partner, theirs, rows_right)
    run = _running(world)
    time.sleep(0.2)
    stop_worker(first, kill=True)  # SIGKILL to the worker and its pool: no ack, no cleanup
    run.refresh_from_db()
    assert run.status == "running", "the run ended before the kill: make the lists bigger"
    world.start_worker()
    t0 = time.monotonic()
    took = _settled(world, timeout=60)
    assert took < 60
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2 or "folded" in run.error, (run.status, run.error)
    print(
        f"SIGKILL of the worker: finished {took:.1f}s after the new worker started ({time.monotonic() - t0:.1f}s)"
    )
    _assert_clean_run_agrees(world)
    assert AccountList.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
