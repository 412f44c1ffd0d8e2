"""Grading: one pure module per exercise kind, reached through `course.grading.registry`.

Beside the kinds: `base` (what a kind takes and returns), `kind` (the ExerciseKind
protocol every kind module satisfies), `rubric` (criteria a person grades with, and their
scoring) and `placements` (the board both placement kinds share). The modules never touch
Flask or the database, so answers can be re-graded at any time.
"""
