"""Grading: one pure module per exercise kind, reached through `course.grading.registry`.

The modules never touch Flask or the database, so answers can be re-graded at any time.
"""
