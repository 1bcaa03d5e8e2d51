"""The publishing client: plan, publish files or a repository, track the task."""
