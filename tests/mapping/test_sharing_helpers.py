"""Builders for the sharing tests: lists, records and overlaps made directly (matching is tested
elsewhere), so that each test states exactly which pairs exist."""

import itertools

from django.test import Client

from mapping.models import AccountList, AccountRecord, Overlap
from mapping.sharing.services import sharing_rule_set

_seq = itertools.count(1)


def make_list(org, name, kind="customers", base=None, filters=None) -> AccountList:
    return AccountList.objects.create(
        organization=org,
        name=name,
        kind="custom" if base is not None else kind,
        base_list=base,
        filters=filters or {},
        source="segment" if base is not None else "api",
    )


def make_record(account_list, name, *, private=False, **fields) -> AccountRecord:
    n = next(_seq)
    values = {"domain": f"d{n}.example", "domain_norm": f"d{n}.example", "name_norm": name.lower()}
    values.update(fields)
    if "country" in fields and "country_norm" not in fields:
        values["country_norm"] = fields["country"][:2].upper()
    record = AccountRecord.objects.create(
        account_list=account_list, key=f"k{n}", row_hash="h", name=name, private=private, **values
    )
    AccountList.objects.filter(pk=account_list.pk).update(
        record_count=AccountRecord.objects.filter(account_list=account_list).count()
    )
    account_list.refresh_from_db()
    return record


def link(
    partnership,
    left: AccountRecord,
    right: AccountRecord,
    *,
    score=0.9,
    status="match",
    reasons="domain equal (domain pass); name equal; country equal; city missing; CRM id equal",
) -> Overlap:
    """An overlap: left is always the initiator's record."""
    assert left.account_list.organization_id == partnership.initiator_id
    assert right.account_list.organization_id == partnership.partner_id
    return Overlap.objects.create(
        partnership=partnership,
        left_list=left.account_list,
        right_list=right.account_list,
        left_record=left,
        right_record=right,
        score=score,
        status=status,
        reasons=reasons,
    )


def share(actor, partnership, account_list, level, fields=(), extra_fields=()):
    return sharing_rule_set(
        actor=actor,
        partnership=partnership,
        account_list=account_list,
        level=level,
        fields=list(fields),
        extra_fields=list(extra_fields),
    )


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def assert_hidden(response, *secrets: str) -> None:
    """Like tests.conftest.assert_no_leak, for streamed (CSV) responses too."""
    body = text_of(response)
    for secret in secrets:
        assert secret not in body, f"{secret!r} leaked in a {response.status_code} response"
