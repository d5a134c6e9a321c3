"""Instructor tooling on top of nbgrader: releasing student notebooks, grading."""
