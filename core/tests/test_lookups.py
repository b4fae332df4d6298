"""``__any_of`` finds the rows ``__in`` finds, on every engine."""

import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from search.models import SearchEntry

pytestmark = pytest.mark.django_db

MOMENT = timezone.make_aware(datetime.datetime(2026, 12, 5, 9, 0))


@pytest.fixture
def entries():
    return SearchEntry.objects.bulk_create(
        SearchEntry(
            kind="post",
            object_id=100 + index,
            title=f"entry {index}",
            community_id=None if index == 0 else 10 + index % 4,
            created_at=MOMENT,
        )
        for index in range(12)
    )


def _ids(condition: Q) -> set[int]:
    return set(SearchEntry.objects.filter(condition).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "values", [[11], [11, 13], [12, 13, 14, 999], list(range(200))]
)
def test_any_of_finds_what_in_finds(entries, values):
    assert _ids(Q(community_id__any_of=values)) == _ids(Q(community_id__in=values))
    assert _ids(~Q(community_id__any_of=values)) == _ids(~Q(community_id__in=values))


def test_any_of_with_no_values_finds_nothing(entries):
    assert _ids(Q(community_id__any_of=[])) == set()
    assert _ids(~Q(community_id__any_of=[])) == {entry.pk for entry in entries}


def test_any_of_rejects_non_integer(entries):
    with pytest.raises(ValueError, match="1; DROP TABLE"):
        SearchEntry.objects.filter(object_id__any_of=["1; DROP TABLE search_entry"])
