"""Benchmarks (`python -m bench.<name>`): they load core first, so that Polars runs with the
allocator setting the app, the worker and the command line use (core/__init__.py)."""
import core  # noqa: F401
