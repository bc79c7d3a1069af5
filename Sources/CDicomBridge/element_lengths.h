/* element_lengths.h - checks a DICOM file's element lengths against the file's size before
 * GDCM reads it (GDCM allocates what a length claims). Internal to the DICOM bridge. */
#ifndef AIMOS_DICOM_ELEMENT_LENGTHS_H
#define AIMOS_DICOM_ELEMENT_LENGTHS_H

#include <stddef.h>

/* 0 when every element (and item) length fits in the bytes that follow it and every explicit VR
 * is a known one (or the file cannot be opened: left to GDCM to report); -1 with the problem
 * otherwise, a deflated data set among them. */
int db_check_element_lengths(const char *path, char *problem, size_t problem_size);

#endif
