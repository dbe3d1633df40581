"""The admin's table form: a table made there obeys TABLE_OPENING like one made by the API or the seed."""

import pytest
from django.test import Client

from ordering.models import Table
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("required", "is_open"), [(True, False), (False, True)])
def test_a_table_added_in_the_admin_starts_closed_when_opening_is_required(settings, required, is_open):
    settings.TABLE_OPENING_REQUIRED = required
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))

    response = client.post("/admin/ordering/table/add/", {"name": "D1"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Table.objects.get(name="D1").is_open is is_open
