import pytest
from django.contrib import admin

from tests.conftest import with_mfa
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_model_admin_changelist_and_add_page_render(world, client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    with_mfa(superuser)
    client.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        response = client.get(base)
        assert response.status_code == 200, base
        search = client.get(base, {"q": "owner"})
        assert search.status_code == 200, base
        if model_admin.has_add_permission(type("R", (), {"user": superuser})()):
            assert client.get(base + "add/").status_code == 200, base + "add/"
    detail = client.get(f"/admin/accounts/partnership/{world.partnership.pk}/change/")
    assert detail.status_code == 200 and "Stage changes" in detail.content.decode()
