# ruff: noqa
# mypy: ignore-errors
