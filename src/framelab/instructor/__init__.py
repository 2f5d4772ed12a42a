"""The instructor's tools after grading: the course as they read it (config, gradebook, pending
hand-grading), feedback in parallel, the cohort report, the LMS export and the simulated-cohort demo."""
