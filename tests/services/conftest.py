import pytest

from tests.api.support import db_state


@pytest.fixture
def snapshot(db):
    return db_state
