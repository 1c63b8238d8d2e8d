"""`python -m orchestrator` runs the bwmigrate command line."""

from orchestrator.cli import main

main()
