from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.parametrize(
    "query", ["Zed Zimmer", "zed@zimmer.example", "+61293744000", "Zimmer Hosting"]
)
def test_staff_find_a_customer_by_name_email_phone_or_business(client, charlie, query):
    UserFactory(
        email="zed@zimmer.example",
        full_name="Zed Zimmer",
        phone="+61293744000",
        business_name="Zimmer Hosting Pty",
    )
    UserFactory(email="other@example.com", full_name="Other Person", phone="+442079460000")
    client.force_login(charlie)

    response = client.get(reverse("admin:accounts_user_changelist"), {"q": query})

    assert response.status_code == 200
    assert "zed@zimmer.example" in response.text
    assert "other@example.com" not in response.text


def test_customers_cannot_open_the_admin(alice_client):
    response = alice_client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_can_create_a_customer_in_admin(client, charlie):
    client.force_login(charlie)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "made.by.staff@example.com",
            "full_name": "Made By Staff",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302
    from accounts.models import User

    assert User.objects.get(email="made.by.staff@example.com").check_password(
        "a-long-enough-passphrase"
    )


def test_the_country_filter_is_one_searchable_select_not_a_list_of_links(client, charlie):
    UserFactory(email="gb@example.com", country="GB")
    UserFactory(email="fr@example.com", country="FR")
    client.force_login(charlie)

    response = client.get(reverse("admin:accounts_user_changelist"))

    html = response.text
    assert '<select class="searchable-filter"' in html
    assert '<option value="?country__exact=FR">France</option>' in html
    assert 'href="?country__exact=FR"' not in html
    assert "admin/js/vendor/select2/select2.full.min.js" in html
    assert "onepanel/admin/searchable_filter.js" in html
    # jQuery once, before Select2, before jquery.init.js hides it.
    assert html.count("admin/js/vendor/jquery/jquery.min.js") == 1
    assert html.index("jquery.min.js") < html.index("select2.full") < html.index("jquery.init.js")


def test_choosing_a_country_lists_only_its_customers(client, charlie):
    UserFactory(email="gb@example.com", country="GB")
    UserFactory(email="fr@example.com", country="FR")
    client.force_login(charlie)

    response = client.get(reverse("admin:accounts_user_changelist"), {"country__exact": "FR"})

    assert "fr@example.com" in response.text
    assert "gb@example.com" not in response.text
    assert '<option value="?country__exact=FR" selected>France</option>' in response.text


def test_a_new_customers_audit_entry_lists_their_own_fields_without_reading_other_apps(
    db, django_assert_num_queries
):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import User

    ContentType.objects.get_for_model(User)  # cached from here on, as in a warm process
    customer = User(email="audited@example.com", full_name="Audited Customer")
    # The INSERT and the entry's: no read of the billing account or the notification
    # preferences pointing at the customer.
    with django_assert_num_queries(2):
        customer.save()

    changed = set(LogEntry.objects.get_for_object(customer).get().changes_dict)
    own = {field.name for field in User._meta.concrete_fields} - {"password", "last_login"}
    assert changed <= own and {"email", "full_name"} <= changed
