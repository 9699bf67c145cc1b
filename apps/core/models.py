"""Building blocks shared by the domain apps."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.validators import validate_no_control_characters


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self) -> SoftDeleteQuerySet:
        return self.filter(is_deleted=False)

    def deleted(self) -> SoftDeleteQuerySet:
        return self.filter(is_deleted=True)


class AliveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):  # type: ignore[misc]
    """The default manager: soft-deleted rows are hidden."""

    def get_queryset(self) -> SoftDeleteQuerySet:
        return super().get_queryset().filter(is_deleted=False)


class AllObjectsManager(models.Manager.from_queryset(SoftDeleteQuerySet)):  # type: ignore[misc]
    """Every row, soft-deleted ones included."""


class SoftDeleteModel(models.Model):
    """Rows are marked deleted, never removed, except by an admin's hard delete.

    ``deletion_batch`` groups every row one delete operation marked, so that a
    restore can reverse exactly that operation and nothing else.
    """

    is_deleted = models.BooleanField(default=False, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deletion_batch = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    deletion_reason = models.CharField(max_length=200, blank=True, editable=False)

    objects = AliveManager()
    all_objects = AllObjectsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    def mark_deleted(self, batch: uuid.UUID, reason: str = "") -> None:
        self.is_deleted = True
        self.deleted_at = timezone.now()
        self.deletion_batch = batch
        self.deletion_reason = reason[:200]

    def mark_restored(self) -> None:
        self.is_deleted = False
        self.deleted_at = None
        self.deletion_batch = None
        self.deletion_reason = ""


class Environment(models.TextChoices):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


RUNTIME_CONFIG_PK = 1
PROJECT_MAX_LENGTH = 100


class RuntimeConfig(models.Model):
    """Non-secret settings changed at run time (by staff, the admin or an MCP client).

    A single row (primary key 1); read and write it through ``apps.core.runtime_config``.
    Secrets never live here: provider keys stay in the environment.
    """

    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.DEVELOPMENT
    )
    project = models.CharField(
        max_length=PROJECT_MAX_LENGTH,
        blank=True,
        validators=[validate_no_control_characters],
        help_text="A short name for this deployment's project.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "runtime configuration"
        verbose_name_plural = "runtime configuration"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=RUNTIME_CONFIG_PK), name="runtime_config_single_row"
            )
        ]

    def __str__(self) -> str:
        project = f" ({self.project})" if self.project else ""
        return f"{self.get_environment_display()}{project}"
