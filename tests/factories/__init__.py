"""factory_boy factories, one module per app, re-exported here."""

from tests.factories.users import DEFAULT_PASSWORD, UserFactory

__all__ = ["DEFAULT_PASSWORD", "UserFactory"]
