"""The package version, declared once (pyproject reads it through hatch)."""

__version__ = "0.3.0"
