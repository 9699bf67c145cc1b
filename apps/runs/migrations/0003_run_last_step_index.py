from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery


def number_from_existing_steps(apps, schema_editor):
    """Runs with steps already (one waiting for an approval, say) go on numbering after them."""
    Run = apps.get_model("runs", "Run")
    RunStep = apps.get_model("runs", "RunStep")
    newest = (
        RunStep.objects.filter(run=OuterRef("pk"))
        .order_by()
        .values("run")
        .annotate(newest=Max("index"))
        .values("newest")
    )
    with_steps = Run.objects.filter(pk__in=RunStep.objects.values("run"))
    with_steps.update(last_step_index=Subquery(newest))


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0002_run_checkpoint_run_delegation_depth_run_parent_run_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='run',
            name='last_step_index',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(number_from_existing_steps, migrations.RunPython.noop),
    ]
