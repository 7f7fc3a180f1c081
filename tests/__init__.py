"""The project's own tests: `make test-fast` runs the quick tier, `make test` every tier (CONTRIBUTING.md)."""
