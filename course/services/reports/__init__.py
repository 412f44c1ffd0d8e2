"""What instructors read about the whole cohort, one report per module.

Every report takes a Session and the Course and runs a fixed number of SQL queries,
however many learners or attempts there are: each reads the aggregates that
course.services.aggregates keeps in step with every attempt, so a report costs the same at
a thousand attempts or a million.
"""
