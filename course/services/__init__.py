"""Operations that change data: a grader or rule, plus persistence, in one place.

Each function takes a SQLAlchemy Session, so a view, the CLI and the benchmark all go
through the same code. An operation a user asks for (submit, save or release a review,
regrade, delete an account) commits its own unit of work; what it calls to keep derived
copies (the aggregates' upkeep, step completion, the mail queue) writes in that same
transaction and commits nothing.

Queries that every page runs (the signed-in check, the header's feedback badge, a
learner's standing and attempts) are module constants with bound parameters instead of
being built on each call: building a SQLAlchemy statement and computing its cache key
costs more than running such a query on an index, and a statement built once keeps its
cache key.
"""
