import uuid

from django.db import migrations, models


def give_each_screenplay_its_uid(apps, schema_editor):
    Screenplay = apps.get_model("screenplays", "Screenplay")
    db = schema_editor.connection.alias
    for pk in Screenplay._base_manager.using(db).values_list("pk", flat=True):
        Screenplay._base_manager.using(db).filter(pk=pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    """A uid per screenplay, the key archives restore by (a callable default would repeat)."""

    dependencies = [
        ("screenplays", "0002_deletion_reason"),
    ]

    operations = [
        migrations.AddField(
            model_name="screenplay",
            name="uid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_screenplay_its_uid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="screenplay",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
