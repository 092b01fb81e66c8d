"""`python -m metareg.cli`: the same as the `metareg` command."""

from metareg.cli import main

main()
