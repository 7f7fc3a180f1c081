# Fetched assignments land in this folder (Exchange.assignment_dir); nbgrader's Assignments tab reads
# the configuration of this folder only, so it loads the course's, one folder up.
c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
load_subconfig("../nbgrader_config.py")  # noqa: F821
