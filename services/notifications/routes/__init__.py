"""Notifications HTTP routes: they translate between HTTP and the service's modules, nothing else."""
