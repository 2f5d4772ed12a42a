# The formgrader service's Jupyter server (run as the grader account in the course folder):
# the instructor extensions that trainees' servers have switched off, and Frame Lab's guard for them
# (framelab.grading.serverext: a Content-Security-Policy on every page, and formgrader's unsandboxed
# Autograde button switched off; grade with `framelab grade`).
c = get_config()  # noqa: F821 - provided by Jupyter
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.course_list": True,
    "framelab.grading.serverext": True,
}
