# The formgrader service's Jupyter server (run as the grader account in the course folder):
# the instructor extensions that trainees' servers have switched off.
c = get_config()  # noqa: F821 - provided by Jupyter
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.course_list": True,
}
