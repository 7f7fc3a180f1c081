"""The project's own tests (see DESIGN.md, "Tests the project must keep")."""
