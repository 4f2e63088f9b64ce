import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from mapping.lists.services.imports import import_job_create
from mapping.lists.services.lists import account_list_create
from mapping.models import AccountList, ImportJob

DATA = Path(__file__).resolve().parent.parent / "data" / "imports"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def customers(world) -> AccountList:
    return account_list_create(actor=world.owner, org=world.owner_org, name="Customers", kind="customers")


def upload(name: str, content: bytes | str) -> SimpleUploadedFile:
    if isinstance(content, str):
        content = content.encode("utf-8")
    return SimpleUploadedFile(name, content)


def data_file(name: str) -> SimpleUploadedFile:
    return upload(name, (DATA / name).read_bytes())


def run_import(
    actor, account_list, file, *, mode="replace", skip_invalid_rows=False, mapping=None
) -> ImportJob:
    """Upload and start at once, as the API does; with no broker the task runs before this returns."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = import_job_create(
            actor=actor,
            account_list=account_list,
            file=file,
            filename=file.name,
            mode=mode,
            skip_invalid_rows=skip_invalid_rows,
            column_mapping=mapping,
            start=True,
        )
    job.refresh_from_db()
    return job


def csv_text(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


__all__ = ["DATA", "csv_text", "data_file", "io", "run_import", "upload"]


def records_of(frame, crm_prefix=""):
    """Generated accounts (bench/generate.py) as records for account_records_push."""
    out = []
    for rid, row in frame.iterrows():
        out.append(
            {
                "name": row.get("name") or "",
                "website": row.get("website") or "",
                "country": row.get("country") or "",
                "region": row.get("region") or "",
                "city": row.get("city") or "",
                "postal_code": row.get("postal_code") or "",
                "owner_email": row.get("email") or "",
                "crm_id": f"{crm_prefix}{rid}",
            }
        )
    return out


def pushed_pair(world, capture, *, n: int, seed: int):
    """A Customers list on each side of world.partnership, pushed (n generated accounts) and
    matched; capture: django_capture_on_commit_callbacks. Returns mine, theirs, left, right, truth."""
    from bench.generate import generate_pair
    from mapping.lists.services.imports import account_records_push
    from mapping.lists.services.lists import account_list_create

    left, right, truth = generate_pair(n=n, seed=seed)
    with capture(execute=True):
        mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
        theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
    with capture(execute=True):
        account_records_push(
            actor=world.owner, account_list=mine, records=records_of(left, "L"), mode="replace"
        )
    with capture(execute=True):
        account_records_push(
            actor=world.partner, account_list=theirs, records=records_of(right, "R"), mode="replace"
        )
    return mine, theirs, left, right, truth


@pytest.fixture
def lists(world, django_capture_on_commit_callbacks):
    """A Customers list on each side of world.partnership, pushed and matched (300 generated accounts)."""
    return pushed_pair(world, django_capture_on_commit_callbacks, n=300, seed=11)


def share_both_ways(world, mine, theirs) -> None:
    """Each side shows the other its list at "overlapping accounts": reviewers may decide pairs."""
    from mapping.sharing.services import sharing_rule_set

    sharing_rule_set(
        actor=world.owner,
        partnership=world.partnership,
        account_list=mine,
        level="overlaps",
        fields=["name", "domain"],
    )
    sharing_rule_set(
        actor=world.partner,
        partnership=world.partnership,
        account_list=theirs,
        level="overlaps",
        fields=["name", "domain"],
    )
