"""The workstation's screens: each reads and writes only through the app's services."""
