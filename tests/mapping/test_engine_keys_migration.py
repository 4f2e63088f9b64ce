"""Migration 0012 recomputes every stored name key with the current normalizer."""

import importlib

import pytest
from django.apps import apps

from mapping.models import AccountRecord
from tests.factories import OrganizationFactory
from tests.mapping.test_sharing_helpers import make_list, make_record

pytestmark = pytest.mark.django_db


def test_stored_name_keys_are_normalized_anew():
    account_list = make_list(OrganizationFactory(), "Customers")
    stale = make_record(account_list, "Harbor Minerals Ltd. Class A", name_norm="harbor minerals ltd class a")
    fresh = make_record(account_list, "Z 7 Retail", name_norm="z7 retail")
    before = AccountRecord.objects.get(pk=fresh.pk).updated_at
    migration = importlib.import_module("mapping.migrations.0013_engine_keys")
    migration.renormalize_names(apps, None)
    assert AccountRecord.objects.get(pk=stale.pk).name_norm == "harbor minerals"
    assert AccountRecord.objects.get(pk=fresh.pk).name_norm == "z7 retail"
    assert AccountRecord.objects.get(pk=fresh.pk).updated_at == before  # unchanged rows are not written
