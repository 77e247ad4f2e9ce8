"""Panels we create hosting accounts on: servers, server groups, the accounts made on
them and a log of every call. Plain account data only (username, domain, package);
billing owns what the customer bought and asks us to act on it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ModuleName(models.TextChoices):
    CPANEL = "cpanel", "cPanel/WHM"
    PROXMOX = "proxmox", "Proxmox VE"
    GENERIC = "generic", "Generic signed HTTPS"


class ServerGroup(models.Model):
    """Servers that can take the same products; a new account goes to the least-filled
    active server of the group that still has room."""

    name = models.CharField(max_length=100, unique=True)
    module = models.CharField(max_length=20, choices=ModuleName.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Server(models.Model):
    group = models.ForeignKey(ServerGroup, on_delete=models.PROTECT, related_name="servers")
    name = models.CharField(max_length=100)
    hostname = models.CharField(max_length=255)
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the panel's.")
    use_tls = models.BooleanField("HTTPS", default=True)
    verify_tls = models.BooleanField("verify the certificate", default=True)
    username = models.CharField(
        max_length=150,
        blank=True,
        help_text="WHM: the API token's user (root). Proxmox: user@realm!tokenname.",
    )
    # MultiFernet with PROVISIONING_ENCRYPTION_KEYS; never shown back in the admin.
    secret_encrypted = models.TextField(blank=True, editable=False)
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Module settings, e.g. {"node": "pve1"} (Proxmox) or {"path": "/hooks"}.',
    )
    max_accounts = models.PositiveIntegerField(default=200, help_text="Capacity.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="provisioning_server_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hostname})"


class AccountStatus(models.TextChoices):
    NEW = "new", "Not created yet"
    CREATED = "created", "Created"
    SUSPENDED = "suspended", "Suspended"
    REMOVED = "removed", "Removed"


class Account(models.Model):
    """One account on one server, known by a reference the caller chooses ("service-12").
    The reference is unique: asking twice for the same account gives the same row."""

    reference = models.CharField(max_length=64, unique=True)
    server = models.ForeignKey(Server, on_delete=models.PROTECT, related_name="accounts")
    username = models.CharField(max_length=64)
    domain = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    package = models.CharField(max_length=100, blank=True)
    options = models.JSONField(default=dict, blank=True)
    remote_id = models.CharField(max_length=100, blank=True, help_text="VMID on Proxmox.")
    status = models.CharField(
        max_length=10, choices=AccountStatus.choices, default=AccountStatus.NEW
    )
    # The first password, encrypted, until the customer has seen it once.
    password_once_encrypted = models.TextField(blank=True, editable=False)
    usage = models.JSONField(default=list, blank=True)
    usage_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["server", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "username"],
                condition=~Q(status="removed"),
                name="provisioning_account_username_per_server",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.server.name}"


class ModuleLog(models.Model):
    """One request to a panel and its answer, with secrets removed."""

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="log")
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="log"
    )
    action = models.CharField(max_length=30)
    method = models.CharField(max_length=10)
    url = models.CharField(max_length=500)
    request = models.JSONField(default=dict, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["server", "-created_at"]),
            models.Index(fields=["account", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.method} {self.url}"
