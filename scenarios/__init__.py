"""Scenarios bundled with radsim, installed as package data (see simulator.loading.bundled_scenarios)."""
