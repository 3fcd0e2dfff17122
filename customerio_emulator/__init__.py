"""Customer.io Track API emulator.

A stdlib-only HTTP server that speaks the Track API contract in /work/shared/customerio-api.md, Part 1,
strictly, keeps everything it receives in memory and lets tests inspect that state, move its clock and
inject faults. Nothing here imports Django except the management command.
"""
