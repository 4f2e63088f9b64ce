"""Match runs in the database, end to end: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prm_bench_runs .venv/bin/python bench/bench_match_runs.py

1. two generated lists of N accounts (bench/generate.py, with ground truth) are written to two
   organizations of one partnership through the import service (COPY on PostgreSQL);
2. a full match run (in this process), with its stored timings: load (read the normalized keys,
   derive the engine's keys), engine, write (overlaps and the engine state);
3. 1% of one list edited through the import service (merge), then the incremental run;
4. precision / recall / F1 of the stored overlaps against the ground truth.

Options: --n N (default 100,000). The database is migrated first; the bench organizations are
recreated each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import Membership, Organization, Partnership, Role, User
    from bench.generate import generate_pair
    from mapping.lists.services.imports import account_records_push
    from mapping.matching.services.runs import match_run_execute
    from mapping.models import AccountList, MatchRun, Overlap

    if os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Unset CELERY_BROKER_URL: this bench runs the tasks in-process.")

    Organization.objects.filter(slug__startswith="bench-runs-").delete()
    user, _ = User.objects.get_or_create(email="bench-runs@example.test")
    orgs = []
    for side in ("left", "right"):
        org = Organization.objects.create(name=f"Bench {side}", slug=f"bench-runs-{side}")
        Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
        orgs.append(org)

    t0 = time.perf_counter()
    left, right, truth = generate_pair(n=args.n, seed=7)
    print(f"generated {len(left):,} x {len(right):,} accounts in {time.perf_counter() - t0:.1f} s")

    def records(frame, prefix):
        frame = frame.fillna("")
        return [
            {
                "name": r["name"],
                "website": r["website"],
                "country": r["country"],
                "region": r["region"],
                "city": r["city"],
                "postal_code": r["postal_code"],
                "owner_email": r["email"],
                "crm_id": f"{prefix}{rid}",
            }
            for rid, r in frame.iterrows()
        ]

    from django.test.utils import override_settings

    lists = []
    # Loaded before the partnership exists, so that no run is scheduled: we run them here, timed.
    with override_settings(IMPORT_MAX_PUSH_RECORDS=10**7):
        for org, frame, prefix in ((orgs[0], left, "L"), (orgs[1], right, "R")):
            account_list = AccountList.objects.create(organization=org, name="Customers")
            t0 = time.perf_counter()
            account_records_push(
                actor=user, account_list=account_list, records=records(frame, prefix), mode="replace"
            )
            print(f"loaded {len(frame):,} records for {org.name} in {time.perf_counter() - t0:.1f} s")
            lists.append(account_list)
    partnership = Partnership.objects.create(initiator=orgs[0], partner=orgs[1])

    def report(r, label, wall):
        print(
            f"{label}: {r.status} in {wall:.2f} s wall; timings {r.timings}; "
            f"re-matched {r.records_rematched:,} records; overlaps +{r.overlaps_added:,} "
            f"-{r.overlaps_removed:,} ~{r.overlaps_updated:,}; matches {r.matches:,}, review {r.review:,}"
        )

    full = MatchRun.objects.create(partnership=partnership, trigger="bench", kind=MatchRun.Kind.FULL)
    t0 = time.perf_counter()
    match_run_execute(run_id=full.pk)
    full.refresh_from_db()
    report(full, "full run", time.perf_counter() - t0)

    # 1% of the left list edited (names get a suffix, as a CRM rename would).
    step = 100
    edited = records(left.iloc[::step], "L")
    for row in edited:
        row["name"] = row["name"] + " Group"
    # The committed change schedules the incremental run (in-process here: no broker configured).
    t0 = time.perf_counter()
    with override_settings(IMPORT_MAX_PUSH_RECORDS=10**7):
        account_records_push(actor=user, account_list=lists[0], records=edited, mode="merge")
    incremental = MatchRun.objects.filter(partnership=partnership).order_by("-id").first()
    print(f"edited {len(edited):,} records (1%); import + run {time.perf_counter() - t0:.2f} s wall")
    report(incremental, f"incremental run ({incremental.kind})", time.perf_counter() - t0)

    found = set(
        Overlap.objects.filter(partnership=partnership, status="match").values_list(
            "left_record__crm_id", "right_record__crm_id"
        )
    )
    expected = {(f"L{a}", f"R{b}") for a, b in truth[["left_id", "right_id"]].itertuples(index=False)}
    tp = len(found & expected)
    p, r = tp / max(len(found), 1), tp / max(len(expected), 1)
    print(
        f"overlaps vs truth (after the edit, renamed records may still match): P {p:.3f} R {r:.3f} "
        f"F1 {2 * p * r / max(p + r, 1e-9):.3f}"
    )
    print(
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
        f"database {connection.vendor}"
    )


if __name__ == "__main__":
    main()
