"""Synthetic light-sheet TIFF stacks of any size for aimos's TIFF input and its benchmarks:
what the planes hold (stack_content) and how they are written, plane by plane (stack_writer)."""
