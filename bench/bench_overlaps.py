"""Account-mapping read benchmark: prints figures, asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_sharing_bench .venv/bin/python bench/bench_overlaps.py

1. (once; --rebuild to redo) a vendor and 10 partners, 10 partnerships, 1,220,000 account records
   (0.5% private) and 1,000,000 matched overlaps (100,000 per partnership over 3x3 list pairs),
   every partner list shared with the vendor at "overlapping accounts" (name, domain);
2. gunicorn on loopback (--workers, default 2 sync workers, persistent DB connections);
3. wrk, 20 connections, --seconds each (default 20), as the vendor's partner manager over the
   API (token), rotating over the 10 partnerships: the overlap matrix, then the first page of the
   overlap list; then the partner's side of one partnership; then the portal's matrix and overlap
   list pages (a signed-in session). Prints p50/p90/p95/p99 and req/s.
   First, as a reference, the smallest authenticated endpoint (/api/organizations/: token and
   membership reads, one list): the floor of the stack under the same load.
   The matrix and the overlap pages go through the read cache (mapping.sharing.read_cache) as in
   production: after the warm-up each distinct request is answered from it until its data
   changes. --no-cache (READ_CACHE=0) measures every request computed, as on a cache miss.

Needs `wrk` (apt-get install -y wrk). The database must be a dedicated one: --rebuild drops it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

PARTNERS = 10
VENDOR_LISTS = (("customers", 60_000), ("prospects", 40_000), ("opportunities", 20_000))
PARTNER_LISTS = (("customers", 50_000), ("prospects", 40_000), ("opportunities", 20_000))
OVERLAPS_PER_PARTNERSHIP = 100_000
PORT = 8765

LUA = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {%(headers)s})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d errors=%%d non2xx=%%d seconds=%%.1f p50=%%.1f p90=%%.1f p95=%%.1f p99=%%.1f max=%%.1f\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def _admin_dsn(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    return parsed._replace(path="/postgres").geturl(), parsed.path.lstrip("/")


def rebuild_database(url: str) -> None:
    import psycopg

    admin, name = _admin_dsn(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(url: str) -> bool:
    import psycopg

    admin, name = _admin_dsn(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


RECORD_INSERT = """
INSERT INTO mapping_accountrecord (account_list_id, key, row_hash, name, website, domain, country, region, city,
  postal_code, industry, owner_name, owner_email, crm_id, stage, extra, private, name_norm, domain_norm,
  email_domain_norm, stem, country_norm, region_norm, city_norm, postal_norm, created_at, updated_at)
SELECT %(list_id)s, 'k' || g, 'h', %(prefix)s || ' account ' || g, '', %(prefix)s || g || '.example', 'Germany',
  CASE WHEN g %% 3 = 0 THEN 'EMEA' WHEN g %% 3 = 1 THEN 'AMER' ELSE 'APAC' END, 'Berlin', '10115',
  CASE WHEN g %% 2 = 0 THEN 'Software' ELSE 'Retail' END, 'Rep ' || (g %% 50),
  'rep' || (g %% 50) || '@' || %(prefix)s || '.example', 'C' || g, 'Open', '{}', (g %% 200 = 7),
  lower(%(prefix)s || ' account ' || g), %(prefix)s || g || '.example', '', %(prefix)s || g, 'DE', '', '', '', now(), now()
FROM generate_series(1, %(n)s) AS g
"""

OVERLAP_INSERT = """
WITH l AS (SELECT id, account_list_id, row_number() OVER (ORDER BY id) - 1 AS i
           FROM mapping_accountrecord WHERE account_list_id = ANY(%(left_lists)s)),
     r AS (SELECT id, account_list_id, row_number() OVER (ORDER BY id) - 1 AS i
           FROM mapping_accountrecord WHERE account_list_id = ANY(%(right_lists)s))
INSERT INTO mapping_overlap (partnership_id, left_list_id, right_list_id, left_record_id, right_record_id, score,
  status, reasons, confirmed, updated_at)
SELECT %(partnership)s, l.account_list_id, r.account_list_id, l.id, r.id, 0.5 + (r.i %% 500) / 1000.0, 'match',
  'domain equal (domain pass); name equal; country equal; city equal', false, now()
FROM r JOIN l ON l.i = (r.i * 7) %% %(left_total)s
WHERE r.i < %(n)s
"""


def build() -> None:
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.models import Membership, Organization, Partnership, Role, User
    from mapping.models import AccountList, SharingRule

    call_command("migrate", verbosity=0)
    if Organization.objects.filter(slug="bench-vendor").exists():
        print("data already there (use --rebuild to start over)")
        return
    started = time.perf_counter()
    vendor = Organization.objects.create(name="Bench Vendor", slug="bench-vendor")
    user = User.objects.create_user("pm@bench-vendor.example", "bench-password-2026")
    Membership.objects.create(user=user, organization=vendor, role=Role.PARTNER_MANAGER)
    Token.objects.create(user=user)
    vendor_lists = []
    with connection.cursor() as cursor:
        for kind, n in VENDOR_LISTS:
            lst = AccountList.objects.create(
                organization=vendor, name=f"Vendor {kind}", kind=kind, record_count=n
            )
            cursor.execute(RECORD_INSERT, {"list_id": lst.pk, "prefix": f"v{kind[:3]}", "n": n})
            vendor_lists.append(lst.pk)
        left_total = sum(n for _k, n in VENDOR_LISTS)
        for i in range(PARTNERS):
            org = Organization.objects.create(name=f"Bench Partner {i:02d}", slug=f"bench-partner-{i}")
            puser = User.objects.create_user(f"pm@bench-partner-{i}.example", "bench-password-2026")
            Membership.objects.create(user=puser, organization=org, role=Role.PARTNER_MANAGER)
            Token.objects.create(user=puser)
            partnership = Partnership.objects.create(initiator=vendor, partner=org)
            right = []
            for kind, n in PARTNER_LISTS:
                lst = AccountList.objects.create(
                    organization=org, name=f"P{i} {kind}", kind=kind, record_count=n
                )
                cursor.execute(RECORD_INSERT, {"list_id": lst.pk, "prefix": f"p{i}{kind[:3]}", "n": n})
                right.append(lst.pk)
                SharingRule.objects.create(
                    partnership=partnership, account_list=lst, level="overlaps", fields=["name", "domain"]
                )
            for lst_id in vendor_lists:  # the vendor shares counts back
                SharingRule.objects.create(partnership=partnership, account_list_id=lst_id, level="counts")
            cursor.execute(
                OVERLAP_INSERT,
                {
                    "left_lists": vendor_lists,
                    "right_lists": right,
                    "partnership": partnership.pk,
                    "left_total": left_total,
                    "n": OVERLAPS_PER_PARTNERSHIP,
                },
            )
            print(f"  partnership {i + 1}/{PARTNERS}: {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM mapping_overlap")
        overlaps = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM mapping_accountrecord")
        records = cursor.fetchone()[0]
    connection.close()
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"built {records:,} records, {overlaps:,} overlaps in {time.perf_counter() - started:.0f} s")


def run_wrk(paths: list[str], headers: dict, seconds: int, connections: int) -> str:
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in {**headers, "Host": "127.0.0.1"}.items())
    script = LUA % {"paths": ", ".join(f'"{p}"' for p in paths), "headers": lua_headers}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            handle.name,
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next((line for line in out.splitlines() if line.startswith("RESULT")), out)


def portal_session() -> str:
    """A signed-in portal session of the vendor's partner manager (its cookie's value)."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="pm@bench-vendor.example"))
    return client.cookies["sessionid"].value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)  # on 2 cores: fewer processes, less contention
    parser.add_argument("--no-cache", action="store_true", help="READ_CACHE=0: every request computed")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a dedicated PostgreSQL database.")
    if args.rebuild or not database_exists(url):
        rebuild_database(url)

    import django

    django.setup()
    build()

    from rest_framework.authtoken.models import Token

    from accounts.models import Organization, Partnership

    vendor = Organization.objects.get(slug="bench-vendor")
    token = Token.objects.get(user__email="pm@bench-vendor.example").key
    partnerships = list(
        Partnership.objects.filter(initiator=vendor).order_by("pk").values_list("pk", flat=True)
    )
    first_partner = Partnership.objects.get(pk=partnerships[0]).partner
    partner_token = Token.objects.get(user__email=f"pm@{first_partner.slug}.example").key

    env = {
        **os.environ,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "MANIFEST_STATIC": "0",
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "ERROR",
        "READ_CACHE": "0" if args.no_cache else "1",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "prm.wsgi",
            "-b",
            f"127.0.0.1:{PORT}",
            "-w",
            str(args.workers),
            "--access-logfile",
            "/dev/null",
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(3)
        print(
            f"\n{len(partnerships)} partnerships, {args.connections} connections, {args.seconds} s each, "
            f"gunicorn {args.workers} sync workers, {os.cpu_count()} CPUs (wrk, server and PostgreSQL share them), "
            f"read cache {'off' if args.no_cache else 'on'}"
        )
        api = {"Authorization": f"Token {token}", "X-Organization": vendor.pk}
        warm = [f"/api/partnerships/{p}/overlap-matrix/" for p in partnerships]
        run_wrk(warm, api, 3, args.connections)  # warm-up: connections, caches
        portal = {"Cookie": f"sessionid={portal_session()}"}
        scenarios = [
            ("reference: /api/organizations/ (2 queries)", ["/api/organizations/"], api),
            ("overlap matrix (vendor, 10 partnerships)", warm, api),
            (
                "overlap list, first page (vendor)",
                [f"/api/partnerships/{p}/overlaps/" for p in partnerships],
                api,
            ),
            (
                "overlap list, first page of one cell (vendor)",
                [f"/api/partnerships/{p}/overlaps/?view=shared-customers" for p in partnerships],
                api,
            ),
            (
                "overlap matrix (partner side)",
                [f"/api/partnerships/{partnerships[0]}/overlap-matrix/"],
                {"Authorization": f"Token {partner_token}", "X-Organization": first_partner.pk},
            ),
            (
                "portal: overlap matrix page (vendor)",
                [f"/partnerships/{p}/mapping/" for p in partnerships],
                portal,
            ),
            (
                "portal: overlap list page (vendor)",
                [f"/partnerships/{p}/mapping/overlaps/" for p in partnerships],
                portal,
            ),
        ]
        for label, paths, headers in scenarios:
            print(f"{label:50s} {run_wrk(paths, headers, args.seconds, args.connections)}", flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
