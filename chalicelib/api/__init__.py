"""CMDM's HTTP edge by area: Chalice blueprints that ``app.py`` registers (see docs/ARCHITECTURE.md).

``edge`` holds what every view shares (authentication, errors, JSON bodies, path ids); the other
modules hold the routes of one area each, and ``jobs`` the schedules and queue handlers.
"""
