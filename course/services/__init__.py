"""Operations that change data: a grader or rule, plus persistence, in one place.

Each function takes a SQLAlchemy Session and commits its own unit of work, so a view, the
CLI and the benchmark all go through the same code.

Queries that every page runs (the signed-in check, the header's feedback badge, a
learner's standing and attempts) are module constants with bound parameters instead of
being built on each call: building a SQLAlchemy statement and computing its cache key
costs more than running such a query on an index, and a statement built once keeps its
cache key.
"""
