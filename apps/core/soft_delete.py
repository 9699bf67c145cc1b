"""Soft delete that propagates along the relations a hard delete would cascade.

A soft delete marks the root and, recursively, every alive row that reaches it
through a ``CASCADE`` foreign key from another soft-deletable model. All of them
share one ``deletion_batch``, so a restore brings back exactly that operation's
rows: rows deleted on their own before keep their own batch and stay deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.utils import timezone

from apps.core.exceptions import Conflict
from apps.core.models import SoftDeleteModel

SoftDeletable = type[SoftDeleteModel]


def cascade_children(model: SoftDeletable) -> Iterator[tuple[SoftDeletable, str]]:
    """(child model, name of its foreign key to ``model``) for every soft-deletable cascade."""
    for relation in model._meta.related_objects:
        child = relation.related_model
        if (
            relation.on_delete is models.CASCADE
            and isinstance(child, type)
            and issubclass(child, SoftDeleteModel)
        ):
            yield child, relation.field.name


def cascade_models(model: SoftDeletable) -> list[SoftDeletable]:
    """``model`` and every model its soft delete can reach."""
    seen: list[SoftDeletable] = [model]
    for current in seen:
        for child, _ in cascade_children(current):
            if child not in seen:
                seen.append(child)
    return seen


class ParentDeleted(Conflict):
    code = "parent_deleted"
    default_message = "A parent of this row is deleted; restore the parent instead."


def deleted_parents(obj: SoftDeleteModel) -> list[str]:
    """Names of the soft-deletable parents that ``obj`` cascades from and that are deleted."""
    names = []
    for field in obj._meta.get_fields():
        remote = getattr(field, "remote_field", None)
        if not (field.many_to_one and remote and remote.on_delete is models.CASCADE):
            continue
        parent = getattr(obj, field.name)
        if isinstance(parent, SoftDeleteModel) and parent.is_deleted:
            names.append(field.name)
    return names


def describe(obj: SoftDeleteModel) -> str:
    return f"{obj._meta.verbose_name} {obj.pk} deleted"


def _mark(
    model: SoftDeletable, pks: list[int], batch: uuid.UUID, reason: str, using: str
) -> list[int]:
    alive = model.all_objects.using(using).filter(pk__in=pks, is_deleted=False)
    marked = list(alive.values_list("pk", flat=True))
    model.all_objects.using(using).filter(pk__in=marked).update(
        is_deleted=True, deleted_at=timezone.now(), deletion_batch=batch, deletion_reason=reason
    )
    return marked


def _cascade(
    model: SoftDeletable, pks: list[int], batch: uuid.UUID, reason: str, using: str
) -> None:
    for child, field_name in cascade_children(model):
        children = child.all_objects.using(using).filter(
            **{f"{field_name}__in": pks}, is_deleted=False
        )
        child_pks = list(children.values_list("pk", flat=True))
        if child_pks:
            _cascade(child, _mark(child, child_pks, batch, reason, using), batch, reason, using)


def _database(obj: SoftDeleteModel) -> str:
    return obj._state.db or DEFAULT_DB_ALIAS


def soft_delete_tree(obj: SoftDeleteModel, *, reason: str = "") -> uuid.UUID:
    """Marks ``obj`` and its cascade deleted in one transaction; returns the batch id.

    The root records ``reason`` (if any); propagated rows record what took them down,
    e.g. "screenplay 12 deleted". Works in the database ``obj`` was loaded from.
    """
    using = _database(obj)
    with transaction.atomic(using=using):
        batch = uuid.uuid4()
        obj.mark_deleted(batch, reason)
        obj.save(
            using=using,
            update_fields=["is_deleted", "deleted_at", "deletion_batch", "deletion_reason"],
        )
        _cascade(type(obj), [obj.pk], batch, describe(obj), using)
    return batch


def soft_delete_many(model: SoftDeletable, pks: list[int], *, reason: str) -> int:
    """Marks the alive rows among ``pks`` and their cascade deleted as one batch.

    One operation, one batch: restoring any of these rows brings back all of them.
    Returns how many of ``pks`` were marked (cascaded rows not counted).
    """
    with transaction.atomic():
        batch = uuid.uuid4()
        marked = _mark(model, pks, batch, reason[:200], DEFAULT_DB_ALIAS)
        if marked:
            _cascade(model, marked, batch, reason[:200], DEFAULT_DB_ALIAS)
    return len(marked)


def restore_tree(obj: SoftDeleteModel) -> int:
    """Restores every row of ``obj``'s deletion batch; returns how many rows came back.

    Raises ParentDeleted while a parent ``obj`` cascades from is deleted: the row
    came down with it (and restoring its batch would revive its siblings under a
    deleted parent), so the parent is what to restore.
    """
    parents = deleted_parents(obj)
    if parents:
        names = " and ".join(parents)
        raise ParentDeleted(
            f"Its {names} is deleted; restore it first.", details={"deleted": parents}
        )
    using = _database(obj)
    with transaction.atomic(using=using):
        return _restore_batch(obj, using)


def _restore_batch(obj: SoftDeleteModel, using: str) -> int:
    batch = obj.deletion_batch
    obj.mark_restored()
    if batch is None:  # deleted before batches existed: only the row itself
        obj.save(
            using=using,
            update_fields=["is_deleted", "deleted_at", "deletion_batch", "deletion_reason"],
        )
        return 1
    return sum(
        model.all_objects.using(using)
        .filter(deletion_batch=batch)
        .update(is_deleted=False, deleted_at=None, deletion_batch=None, deletion_reason="")
        for model in cascade_models(type(obj))
    )
