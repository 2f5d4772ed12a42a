# The course's nbgrader settings. Run nbgrader commands from this folder (the course root).
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "framelab"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Saved answers travel with a submission; leftovers from editors do not, and neither does the
# learner's own record of time spent (activity.json).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.broken-*", "activity.json"]

# Trainees never type code: an answer cell's solution region becomes a comment, and the
# menus shown by the cell fill in the answers.
c.ClearSolutions.code_stub = {"python": "# (nothing to type here: choose in the menus below)"}
c.ClearSolutions.text_stub = "Write your answer here, in your own words."

# Grading bounds: no cell may run longer than this, and a deleted test cell is put back.
# (`framelab grade` also bounds a whole notebook: 300 s, `--notebook-timeout`.)
c.ExecutePreprocessor.timeout = 30
c.Execute.timeout = 30
c.OverwriteCells.add_missing_cells = True

# Feedback that teaches: each classification item shows the trainee's choice, the answer and the
# bank's rationale, in place of the hidden test's source (which never reaches the trainee).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "framelab.preprocessors.TeachingFeedback",
]
# ... on nbgrader's page, with each item named in the contents (not "Test cell" each time).
c.GenerateFeedback.exporter_class = "framelab.feedback.FeedbackExporter"

# Output bounds: 1,000 lines per cell (nbgrader's LimitOutput), and 20,000 characters per output.
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "framelab.preprocessors.LimitOutputChars",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Formgrader shows the work: under each classification answer and test cell, the response, the
# client's line, the trainee's choice and the key (instructors only: feedback drops them).
# Last, after the scores are saved, so it changes no grade.
c.Autograde.autograde_preprocessors.append("framelab.formgrade.FormgraderView")

# Collecting trusts no folder in the exchange: one made in another trainee's name is refused, links
# are never followed, FIFOs and devices are skipped, and each submission is bounded
# (framelab.grading.collect; one trainee's bad folder is one line, everyone else is collected).
c.ExchangeFactory.collect = "framelab.exchange.SafeCollect"
