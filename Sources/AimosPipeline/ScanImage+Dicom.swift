import AimosCore

extension ScanImage {
    /// A DICOM series (a folder holding it, or one multi-frame file) as a float32 scan: rescale
    /// slope and intercept applied plane by plane, the geometry from the DICOM attributes in
    /// NIfTI's RAS frame (DicomSeriesReader). `series` picks one Series Instance UID of several.
    package convenience init(dicomPath path: String, series: String? = nil) throws {
        let (image, info) = try DicomSeriesReader.read(path, series: series)
        try self.init(image: image, path: path, dicom: info)
    }
}
