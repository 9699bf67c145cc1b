from django.urls import URLPattern, URLResolver, path

from apps.activity.api import TaskDetailView, TaskEventFeedView, TaskEventIngestView, TaskListView

urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", TaskListView.as_view(), name="task-list"),
    path("tasks/events/", TaskEventFeedView.as_view(), name="task-event-feed"),
    path("tasks/<uuid:pk>/details/", TaskDetailView.as_view(), name="task-details"),
    path("internal/task-event/", TaskEventIngestView.as_view(), name="task-event-ingest"),
]
