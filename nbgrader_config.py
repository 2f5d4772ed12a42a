# The course's nbgrader settings. Run nbgrader commands from this folder (the course root).
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "framelab"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Saved answers travel with a submission; leftovers from editors do not, and neither does the
# learner's own record of time spent (activity.json) and practice tally (practice.json).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.broken-*", "activity.json", "practice.json"]

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
# (nbgrader's own list also names nbconvert's CSSHTMLHeaderPreprocessor, which is off unless switched
# on: it never ran, and the page has its own style, so it is left out.)
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "framelab.preprocessors.TeachingFeedback",
    "framelab.preprocessors.LateNote",
]
# ... on nbgrader's page, with each item named in the contents (not "Test cell" each time).
c.GenerateFeedback.exporter_class = "framelab.feedback.FeedbackExporter"

# Output bounds: 1,000 lines per cell (nbgrader's LimitOutput), and 20,000 characters per output.
# Every step listed here runs (tests/test_preprocessors.py checks it): nbgrader's own default list also
# names IgnorePattern and ClearMetadataPreprocessor, which are off unless switched on, so they are left
# out (nothing here needs stderr filtered, and clearing metadata would remove nbgrader's own).
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.LimitOutput",
    "framelab.preprocessors.LimitOutputChars",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    # what the trainee wrote or printed is made safe to show before autograded/ is written
    "framelab.preprocessors.SanitizeUntrusted",
]
# ... and again as every page is drawn: formgrader's (its HTMLExporter reads this file) and every
# feedback page (FeedbackExporter is an HTMLExporter), whatever wrote the notebook.
c.HTMLExporter.preprocessors = ["framelab.preprocessors.SanitizeUntrusted"]

# Formgrader shows the work: under each classification answer and test cell, the response, the
# client's line, the trainee's choice and the key (instructors only: feedback drops them).
# Last, after the scores are saved, so it changes no grade.
c.Autograde.autograde_preprocessors.append("framelab.formgrade.FormgraderView")

# Resubmissions: `nbgrader collect` takes each trainee's latest submission, replacing an older one
# already collected (nbgrader's --update). For the last one before the due date instead, set
# c.ExchangeCollect.before_duedate = True; for the first only, set update to False.
c.ExchangeCollect.update = True

# Late work. Due dates are nbgrader's, one per assignment in the gradebook:
#   nbgrader db assignment add m1_double_bind --duedate="2027-01-15 17:00:00 Europe/London"
# The policy per assignment ("*" for the rest): "none" (marked late, nothing off), "per_day:POINTS"
# (points off for each day or part of a day), or "zero_after:HOURS" (nothing off up to HOURS late,
# the whole score after). framelab grade, feedback, export and report show late work either way.
c.AssignLatePenalties.plugin_class = "framelab.preprocessors.LatePolicy"
c.LatePolicy.policies = {"*": "none"}
# Pass marks: the percentage of each assignment's points a trainee needs to pass it. These are a
# starting point; set your programme's own. `framelab export` and `framelab report` show them.
c.FrameLab.pass_marks = {
    "m1_double_bind": 60,
    "m2_transference": 60,
    "m3_three_moves": 60,
    "m4_boundary_map": 60,
    "m5_alliance": 60,
    "m6_capstone": 60,
}
# Per-trainee variants (framelab.bank.variants): True asks each trainee of a pooled exercise the items
# drawn from their id, one test cell per place; grading, feedback, formgrader and the report follow each
# trainee's gradebook id. `framelab build` reads this: run `make release` after changing it, and grade with
# `framelab grade` (stock `nbgrader autograde` cannot tell the kernel whose notebook it runs).
c.FrameLab.variants = False

# Collecting trusts no folder in the exchange: one made in another trainee's name is refused, links
# are never followed, FIFOs and devices are skipped, and each submission is bounded
# (framelab.grading.collect; one trainee's bad folder is one line, everyone else is collected).
c.ExchangeFactory.collect = "framelab.exchange.SafeCollect"
