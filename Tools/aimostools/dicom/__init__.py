"""DICOM series for the DICOM reader's tests, written with pydicom (series_writer)."""
