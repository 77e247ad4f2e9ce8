from django.db import migrations

DEPARTMENTS = [
    ("Support", "support", "Help with your services and your account.", False, 10),
    ("Billing", "billing", "Invoices, payments and refunds.", False, 20),
    ("Sales", "sales", "Questions before you buy.", False, 30),
    (
        "Privacy",
        "privacy",
        "Correct, update or restrict your personal information, or object to its use.",
        True,
        40,
    ),
]


def seed(apps, schema_editor):
    Department = apps.get_model("support", "Department")
    for name, slug, description, privacy, position in DEPARTMENTS:
        Department.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "handles_privacy_requests": privacy,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
