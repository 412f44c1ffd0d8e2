"""A learner's attempts at exercises, in four modules by what each does.

`submit` stores an attempt (the only way one is stored), `reads` reads back what a
learner did, `policy` says what the exercise's attempt policy allows now, and `report`
decides what the attempt page shows. None of them imports Flask: the session is passed in.
"""
