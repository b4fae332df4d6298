"""Communities, people, tags and contexts as results and filters."""

from accounts.models import Role
from assist.models import HelpContext
from conftest import make_person
from search.indexing import reindex_all
from search.selectors import SearchFilters
from search.tests.conftest import found


def test_private_community_found_by_members_only(
    private_community, member, outsider, customer, moderator
):
    reindex_all(sources=["community"])
    expected = [("community", private_community.pk)]
    assert found(member, "pricing") == expected
    assert found(outsider, "pricing") == []
    assert found(customer, "pricing") == []
    assert found(moderator, "pricing") == []


def test_customer_finds_customer_community_only(
    customer, customer_community, payments_community
):
    reindex_all(sources=["community"])
    assert found(customer, "customer OR payments") == [
        ("community", customer_community.pk)
    ]


def test_people_follow_visible_people(customer, outsider, sales_rep):
    shown = make_person("vera", Role.SALES_REP, group="sales")
    shown.visible_to_customers = True
    shown.title = "Key account lead"
    shown.save()
    sales_rep.title = "Key account assistant"
    sales_rep.save()
    reindex_all(sources=["person"])
    assert found(outsider, "key account") == sorted(
        [("person", shown.pk), ("person", sales_rep.pk)]
    )
    assert found(customer, "key account") == [("person", shown.pk)]


def test_inactive_people_are_not_found(outsider, sales_rep):
    sales_rep.is_active = False
    sales_rep.save()
    reindex_all(sources=["person"])
    assert found(outsider, "sally") == []


def test_context_filter_includes_child_contexts(content, outsider):
    parent, _ = HelpContext.objects.get_or_create(
        key="search.test", defaults={"title": "Search test"}
    )
    child, _ = HelpContext.objects.get_or_create(
        key="search.test.child", defaults={"title": "Child", "parent": parent}
    )
    faq = content["internal_faq"]
    faq.contexts.add(child)
    reindex_all(sources=["faq"])
    assert found(
        outsider, "walruscredit", filters=SearchFilters(context="search.test")
    ) == [("faq", faq.pk)]
    assert (
        found(outsider, "walruscredit", filters=SearchFilters(context="search.tes"))
        == []
    )


def test_library_tag_filter_keeps_c_family_apart(content, outsider, library_tag):
    document = content["customer_doc"]
    library_tag(document, "C++", "c++")
    reindex_all(sources=["library"])
    assert found(outsider, "beaverdispute", filters=SearchFilters(tag="C++")) == [
        ("library", document.pk)
    ]
    assert found(outsider, "beaverdispute", filters=SearchFilters(tag="C")) == []
    assert found(outsider, "C++") == [("library", document.pk)]
    assert found(outsider, "C#") == []
