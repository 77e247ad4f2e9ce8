"""The four cookie groups of the privacy policy with every cookie we or our providers
set, and the first published privacy policy and terms of service."""

from pathlib import Path

from django.db import migrations
from django.utils import timezone

LEGAL = Path(__file__).resolve().parent.parent / "legal"

GROUPS = [
    # varname, name, description, is_required, ordering
    (
        "necessary",
        "Necessary",
        "Needed to browse the site: sign-in, form protection, your basket, traffic "
        "protection, payments and your cookie choice itself. They cannot be refused.",
        True,
        0,
    ),
    (
        "functional",
        "Functional",
        "Remember your preferences, such as the currency prices are shown in.",
        False,
        1,
    ),
    (
        "performance",
        "Performance",
        "Measure how fast our pages load, anonymously, so we can make them faster.",
        False,
        2,
    ),
    (
        "advertising",
        "Advertising",
        "Record which pages were visited, in what order and for how long, anonymously; "
        "and let the Google tag load.",
        False,
        3,
    ),
]

COOKIES = [
    # group, name, domain, purpose, provider, lifetime, third party
    ("necessary", "sessionid", "", "Keeps you signed in and keeps your basket between pages.",
     "OnePanel", "2 weeks", False),
    ("necessary", "csrftoken", "", "Protects our forms against cross-site request forgery.",
     "OnePanel", "1 year", False),
    ("necessary", "consent", "", "Remembers your cookie choice so we do not ask on every page.",
     "OnePanel", "12 months", False),
    ("necessary", "messages", "", "Carries a one-time notice (such as \"saved\") to the next page.",
     "OnePanel", "Until the browser closes", False),
    ("necessary", "__cf_bm", "", "Tells people from automated traffic to protect the site.",
     "Cloudflare", "30 minutes", True),
    ("necessary", "cf_clearance", "", "Remembers that your browser passed a security check.",
     "Cloudflare", "1 year", True),
    ("necessary", "__stripe_mid", "", "Lets Stripe detect fraud when you add a card or pay.",
     "Stripe", "1 year", True),
    ("necessary", "__stripe_sid", "", "Lets Stripe detect fraud during one payment session.",
     "Stripe", "30 minutes", True),
    ("necessary", "m", "m.stripe.com", "Lets Stripe recognise the device to prevent fraud.",
     "Stripe", "2 years", True),
    ("functional", "currency", "", "Remembers the currency you chose for prices.",
     "OnePanel", "1 year", False),
    ("advertising", "_ga", "", "Google tag: tells one browser's visits apart, without a name.",
     "Google", "2 years", True),
    ("advertising", "_ga_*", "", "Google tag: keeps the state of one visit.",
     "Google", "2 years", True),
    ("advertising", "_gcl_au", "", "Google tag: measures which advertisement led to a visit.",
     "Google", "90 days", True),
]

DOCUMENTS = [
    ("privacy", "Privacy policy", "privacy-v1.md"),
    ("terms", "Terms of service", "terms-v1.md"),
]


def declare(apps, schema_editor):
    CookieGroup = apps.get_model("cookie_consent", "CookieGroup")
    Cookie = apps.get_model("cookie_consent", "Cookie")
    CookieFacts = apps.get_model("privacy", "CookieFacts")
    LegalDocument = apps.get_model("privacy", "LegalDocument")
    groups = {}
    for varname, name, description, required, ordering in GROUPS:
        groups[varname], _ = CookieGroup.objects.update_or_create(
            varname=varname,
            defaults={
                "name": name,
                "description": description,
                "is_required": required,
                "is_deletable": not required,
                "ordering": ordering,
            },
        )
    for group, name, domain, purpose, provider, lifetime, third_party in COOKIES:
        cookie, _ = Cookie.objects.update_or_create(
            cookiegroup=groups[group], name=name, domain=domain,
            defaults={"description": purpose, "path": "/"},
        )
        CookieFacts.objects.update_or_create(
            cookie=cookie,
            defaults={"provider": provider, "lifetime": lifetime, "third_party": third_party},
        )
    now = timezone.now()
    for kind, title, filename in DOCUMENTS:
        LegalDocument.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={
                "title": title,
                "body": (LEGAL / filename).read_text(),
                "change_summary": "First version.",
                "effective_date": now.date(),
                "published_at": now,
            },
        )


def undeclare(apps, schema_editor):
    apps.get_model("privacy", "LegalDocument").objects.filter(version=1).delete()
    apps.get_model("cookie_consent", "CookieGroup").objects.filter(
        varname__in=[g[0] for g in GROUPS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("cookie_consent", "0004_cookie_natural_key"),
    ]

    operations = [migrations.RunPython(declare, undeclare)]
