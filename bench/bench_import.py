"""Import benchmark: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_import_bench .venv/bin/python bench/bench_import.py

1. a 1,000,000-row Salesforce-style CSV imported with `manage.py import_accounts` (a child
   process, so that its wall time and peak RSS are its own), into an empty list (COPY);
2. the same file again (nothing changes: an empty change set);
3. the same file with 10% of rows edited, 5% removed, 5% new (replace: the staging-table diff);
4. 100,000 rows through the portal: upload, then confirm the mapping (tasks run in-process).

Options: --rows N (default 1,000,000), --portal-rows N (default 100,000), --keep (keep the files).
The database is migrated first; the benchmark's organization and lists are recreated each run, and
the records table vacuumed. Peak RSS is each import's own (its process and the workers it waited for).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("AXES_ENABLED", "0")

HEADER = [
    "Account ID",
    "Account Name",
    "Type",
    "Website",
    "Billing City",
    "Billing State/Province",
    "Billing Zip/Postal Code",
    "Billing Country",
    "Industry",
    "Account Owner",
    "Annual Revenue",
]
WORDS = (
    "Acme Global Blue River Summit North Star Apex Nova Delta Prime Green Field Vertex Orbit Silver Peak "
    "Bright Harbor Iron Cloud Data Systems Labs Solutions Logistics Health Foods Energy Capital"
).split()
SUFFIXES = ("Inc.", "GmbH", "Ltd", "S.A.", "LLC", "B.V.", "AG", "Corp.", "SAS", "")
COUNTRIES = (
    "United States",
    "USA",
    "Germany",
    "Deutschland",
    "France",
    "United Kingdom",
    "UK",
    "Spain",
    "Italy",
    "Netherlands",
    "Canada",
    "Japan",
    "Brazil",
    "India",
    "Australia",
)
TLDS = ("com", "de", "fr", "co.uk", "es", "it", "nl", "ca", "co.jp", "com.br", "in", "com.au")
INDUSTRIES = ("Technology", "Manufacturing", "Retail", "Healthcare", "Finance", "Energy", "Education")


def make_row(i: int, rng: random.Random, edited: bool = False) -> list[str]:
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i} {rng.choice(SUFFIXES)}".strip()
    stem = name.split()[0].lower() + name.split()[1].lower() + str(i)
    return [
        f"001{i:015d}",
        name + (" Group" if edited else ""),
        rng.choice(("Customer - Direct", "Customer - Channel", "Prospect")),
        f"https://www.{stem}.{rng.choice(TLDS)}/",
        rng.choice(("Berlin", "Paris", "London", "New York", "São Paulo", "Tokyo", "Madrid", "Zürich")),
        rng.choice(("CA", "NY", "BY", "", "ON")),
        f"{rng.randint(10000, 99999)}",
        rng.choice(COUNTRIES),
        rng.choice(INDUSTRIES),
        rng.choice(("Jane Smith", "Max Mustermann", "Ana García", "Li Wei")),
        str(rng.randint(1, 10_000) * 1000),
    ]


def write_csv(path: Path, rows: int, *, seed: int = 1, churn: bool = False) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            row = make_row(i, rng)
            if churn:
                bucket = i % 20
                if bucket == 0:
                    continue  # 5% removed
                if bucket in (1, 2):
                    row = make_row(i, random.Random(i), edited=True)  # 10% edited
            writer.writerow(row)
        if churn:
            for i in range(rows, rows + rows // 20):  # 5% new
                writer.writerow(make_row(i, rng))


def child_import(list_id: int, path: Path, mode: str = "replace") -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB of this import's process and the workers it waited for, output)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "import_accounts",
                str(list_id),
                str(path),
                "--mode",
                mode,
            ],
            stdout=out,
            stderr=err,
            text=True,
            cwd=ROOT,
            env=os.environ.copy(),
        )
        _pid, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not the running maximum
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        print(stdout, stderr)
        raise SystemExit("import failed")
    return wall, usage.ru_maxrss / 1024, stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--portal-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (COPY is the path being measured).")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from accounts.models import Membership, Organization, Role, User
    from mapping.lists.services.lists import account_list_create
    from mapping.models import AccountList, AccountRecord

    Organization.objects.filter(slug="bench-import").delete()
    with connection.cursor() as cursor:
        # Autovacuum may be off: without this, the dead rows of earlier runs weigh on the figures.
        cursor.execute(f"VACUUM ANALYZE {AccountRecord._meta.db_table}")
    org = Organization.objects.create(name="Bench import", slug="bench-import")
    user, _ = User.objects.get_or_create(email="bench-import@example.test")
    Membership.objects.create(user=user, organization=org, role=Role.PARTNER_MANAGER)
    big = account_list_create(actor=user, org=org, name="Big")
    portal_list = account_list_create(actor=user, org=org, name="Portal")

    workdir = Path(tempfile.mkdtemp(prefix="bench-import-", dir=os.environ.get("BENCH_TMP")))
    print(f"PostgreSQL: {connection.pg_version}; {os.cpu_count()} CPUs; files in {workdir}")
    full, churned, small = workdir / "full.csv", workdir / "churned.csv", workdir / "portal.csv"
    start = time.perf_counter()
    write_csv(full, args.rows)
    write_csv(churned, args.rows, churn=True)
    write_csv(small, args.portal_rows, seed=2)
    print(
        f"generated files in {time.perf_counter() - start:.1f} s: {full.stat().st_size / 1e6:.0f} MB for "
        f"{args.rows:,} rows"
    )

    for label, path in (
        ("1. first import (COPY into an empty list)", full),
        ("2. same file again (empty change set)", full),
        ("3. 10% edited, 5% removed, 5% new (replace)", churned),
    ):
        wall, rss, out = child_import(big.pk, path)
        print(f"{label}: {wall:.1f} s wall, peak RSS {rss:.0f} MB | {out}")
    print(f"   records in the list: {AccountRecord.objects.filter(account_list=big).count():,}")

    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    start = time.perf_counter()
    with small.open("rb") as fh:
        response = client.post(f"/lists/{portal_list.pk}/upload/", {"file": fh})
    if response.status_code != 302:
        raise SystemExit(f"upload failed: {response.status_code} {response.content[:500]!r}")
    job_url = response["Location"]
    job_id = int(job_url.rstrip("/").rsplit("/", 1)[1])
    from mapping.models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    form = {f"map_{field}": header for field, header in job.column_mapping.items()}
    form["mode"] = "replace"
    response = client.post(job_url, form)
    wall = time.perf_counter() - start
    job.refresh_from_db()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"4. portal upload + confirm of {args.portal_rows:,} rows: {wall:.1f} s wall "
        f"(status {job.status}, {job.added:,} added), this process's peak RSS {rss:.0f} MB"
    )

    AccountList.objects.filter(organization=org).delete()
    if not args.keep:
        for path in (full, churned, small):
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
