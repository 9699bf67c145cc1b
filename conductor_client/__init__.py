"""Python client for the Conductor API, and the `conductor` command."""
