# The course's nbgrader settings. Run nbgrader commands from this folder (the course root).
c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "framelab"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Saved answers travel with a submission; leftovers from editors do not.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.broken-*"]

# Trainees never type code: an answer cell's solution region becomes a comment, and the
# menus shown by the cell fill in the answers.
c.ClearSolutions.code_stub = {"python": "# (nothing to type here: choose in the menus below)"}
c.ClearSolutions.text_stub = "Write your answer here, in your own words."

# Grading bounds: no cell may run longer than this, and a deleted test cell is put back.
c.ExecutePreprocessor.timeout = 30
c.Execute.timeout = 30
c.OverwriteCells.add_missing_cells = True
