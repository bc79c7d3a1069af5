"""A cohort's results as `aimos segment --output-dir` leaves them: one scan's sidecar and the
files it names (scan_results), and the QC page over many scans (qc_page, aimos-qc-page)."""
