from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    REQUIRES_APPROVAL = "requires_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


TERMINAL_STATUSES = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT}
)
ACTIVE_STATUSES = frozenset({RunStatus.RUNNING, RunStatus.REQUIRES_APPROVAL})


class ContextMode(models.TextChoices):
    STATELESS = "stateless"
    CONTEXTUAL = "contextual"


class RunSource(models.TextChoices):
    API = "api"
    ADMIN = "admin"
    MCP = "mcp"
    COUNCILOR = "councilor"
    PORTFOLIO = "portfolio"


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


Statement = tuple[str, list[Any]]
COUNTERS = ("last_event_seq", "last_step_index")


def insert_statement(objs: Sequence[models.Model], connection: Any) -> Statement:
    """One INSERT of unsaved ``objs`` (all of one model), built without the query compiler.

    For the logs a run appends to at every step: bulk_create spends several times longer
    compiling its statement than the database spends running it. No signal, no id back.
    """
    meta = type(objs[0])._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = f"({', '.join(['%s'] * len(fields))})"
    table = connection.ops.quote_name(meta.db_table)
    # Names from the model's meta, quoted; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(objs))}"  # noqa: S608
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objs
        for field in fields
    ]
    return sql, params


def execute_together(connection: Any, statements: list[Statement]) -> int:
    """Runs ``statements`` in order, in one round trip where the driver allows it (psycopg's
    client-side binding, Django's default); returns the first one's rowcount."""
    with connection.cursor() as cursor:
        if _sends_many_at_once(connection, cursor):
            sql = "; ".join(sql for sql, _ in statements)
            cursor.execute(sql, [param for _, params in statements for param in params])
            return int(cursor.rowcount)
        rowcounts = []
        for sql, params in statements:
            cursor.execute(sql, params)
            rowcounts.append(cursor.rowcount)
        return int(rowcounts[0])


def _sends_many_at_once(connection: Any, cursor: Any) -> bool:
    if connection.vendor != "postgresql":
        return False
    import psycopg

    return isinstance(cursor.cursor, psycopg.ClientCursor)


class RunManager(models.Manager["Run"]):
    def counters_update(
        self,
        connection: Any,
        pk: Any,
        *,
        counters: tuple[int, int],
        to: tuple[int, int],
        add: dict[str, int | Decimal] | None = None,
        heartbeat_at: datetime | None = None,
    ) -> Statement:
        """The UPDATE that moves a run's ``COUNTERS`` from ``counters`` to ``to`` and adds
        each of ``add`` to its column; it matches no row once the counters have moved on."""
        sets: list[tuple[str, str, Any]] = [
            (name, f"{self._column(connection, name)} + %s", n) for name, n in (add or {}).items()
        ]
        sets += [(name, "%s", value) for name, value in zip(COUNTERS, to, strict=True)]
        if heartbeat_at is not None:
            sets.append(("heartbeat_at", "%s", heartbeat_at))
        where = [("pk", pk), *zip(COUNTERS, counters, strict=True)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        assignments = ", ".join(
            f"{self._column(connection, name)} = {value}" for name, value, _ in sets
        )
        conditions = " AND ".join(f"{self._column(connection, name)} = %s" for name, _ in where)
        params = [self._field(name).get_db_prep_value(value, connection) for name, _, value in sets]
        params += [self._field(name).get_db_prep_value(value, connection) for name, value in where]
        # Names from the model's meta, quoted; every value is a parameter.
        return f"UPDATE {table} SET {assignments} WHERE {conditions}", params  # noqa: S608

    def _field(self, name: str) -> models.Field[Any, Any]:
        meta = self.model._meta
        field = meta.pk if name == "pk" else meta.get_field(name)
        assert isinstance(field, models.Field)
        return field

    def _column(self, connection: Any, name: str) -> str:
        return str(connection.ops.quote_name(self._field(name).column))


class Run(models.Model):
    """One execution of an agent. Its id doubles as the seed gateway's job id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="runs")
    instance = models.ForeignKey(
        "instances.AgentInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    screenplay = models.ForeignKey(
        "screenplays.Screenplay",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    input = models.TextField()
    context_mode = models.CharField(
        max_length=16, choices=ContextMode.choices, default=ContextMode.STATELESS
    )
    cwd = models.CharField(max_length=500, blank=True)
    model = models.CharField(max_length=200)
    max_steps = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    timeout_seconds = models.PositiveIntegerField()
    max_cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)

    status = models.CharField(
        max_length=24, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)

    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # The seq of the newest event and the index of the newest step (``COUNTERS``): the
    # services that append to the log and the steps move them on as they write.
    last_event_seq = models.PositiveIntegerField(default=0, editable=False)
    last_step_index = models.PositiveIntegerField(default=0, editable=False)
    # Where the loop stopped to wait for an approval: messages, pending calls, steps used.
    checkpoint = models.JSONField(default=dict, blank=True, editable=False)
    parent_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_runs"
    )
    delegation_depth = models.PositiveSmallIntegerField(default=0)

    source = models.CharField(max_length=16, choices=RunSource.choices, default=RunSource.API)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )

    objects = RunManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.agent_id} run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class RunStepKind(models.TextChoices):
    LLM_CALL = "llm_call"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    APPROVAL = "approval"
    FINAL_ANSWER = "final_answer"


class RunStep(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=RunStepKind.choices)
    payload = models.JSONField(default=dict)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="run_step_index_unique")
        ]

    def __str__(self) -> str:
        return f"step {self.index} ({self.kind})"


class RunEvent(models.Model):
    """The append-only log behind the streams."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    event = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="run_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.seq} {self.event}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    PRE_APPROVED = "pre_approved"


class Approval(models.Model):
    """A tool call that waits for (or was spared) a human's decision."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="approvals")
    tool = models.CharField(max_length=100)
    arguments = models.JSONField(default=dict)
    call_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING, db_index=True
    )
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self) -> str:
        return f"{self.tool} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING
