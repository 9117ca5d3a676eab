"""Reading and writing ANSI X12 5010 health-care transactions."""
