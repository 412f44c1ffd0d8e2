"""Operations that change data: a grader or rule, plus persistence, in one place.

Each function takes a SQLAlchemy Session and commits its own unit of work, so a view, the
CLI and the benchmark all go through the same code.
"""
