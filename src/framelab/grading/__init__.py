"""The score of record for a cohort: the exchange's submissions, a snapshot of each before any of its
code runs, the sandboxed run in a pool of workers, the gradebook, the out-of-kernel audit, and the
nbgrader preprocessors that show formgrader the work and make feedback teach."""
