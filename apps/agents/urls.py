from rest_framework.routers import SimpleRouter

from apps.agents.api import AgentViewSet

router = SimpleRouter()
router.register("agents", AgentViewSet, basename="agent")

urlpatterns = router.urls
