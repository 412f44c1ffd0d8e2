"""Report aggregates kept in step with the attempts, in the same transaction as each change.

The reports (course.services.reports) read these rows instead of the attempts, so each
costs the same however many attempts there are: a row per learner and exercise
(LearnerExercise), each exercise's totals and score bands (ExerciseTotals), the item
outcomes of the misconceptions report (ItemOutcome), the daily activity (DailyActivity)
and the number of learners (LearnerCount). Each learner's gradebook sort keys
(course.services.learner_keys) and an exercise's completion (course.services.progress)
are kept by the same upkeep and rebuilt with the rest.

Reading order:
- `rows`: what each row holds, worked out from the attempts (shared by upkeep and rebuild).
- `counts`: the upserts that add a change to the kept counts.
- `locks`: the one order in which every change takes its rows.
- `upkeep`: what submitting, reviewing, releasing, regrading and deleting an account
  call, after flushing their change and before their commit.
- `rebuild`: everything recomputed from the attempts (`flask --app course
  rebuild-aggregates`; course.services.drift compares the two).

Nothing here imports Flask.
"""
