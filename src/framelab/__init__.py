"""Frame Lab: a JupyterLab curriculum for holding a professional boundary kindly.

The package stays light to import: notebooks pull in only what they use.
"""

__version__ = "0.1.0"
