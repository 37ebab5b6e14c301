"""The engine loops: each pass runs every job that has work due, as of the clock's now."""
