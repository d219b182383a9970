"""Bundled scenarios (package data; simulator.loading.bundled_scenarios finds them)."""
