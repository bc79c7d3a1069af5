import AimosCore
import CDicomBridge
import CNiftiBridge

#if canImport(Glibc)
import Glibc
#endif

/// What a scan read from DICOM keeps of its series: which one it was, and the attributes that
/// say what its values mean (echoed in the organ table for a PET or SPECT signal).
package struct DicomSeriesInfo: Equatable {
    package var uid = "", description = "", modality = ""
    /// (0054,1001) Units, e.g. BQML; (0054,1102) Decay Correction, e.g. START; (0028,1054)
    /// Rescale Type, e.g. HU; (0018,5100) Patient Position, e.g. FFS. "" when absent.
    package var units = "", decayCorrection = "", rescaleType = "", patientPosition = ""
    package var transferSyntax = ""
    package var fileCount = 0
    package var planesPerFile = 1
}

/// A DICOM series as a volume: GDCM (dicom_bridge.cpp) reads and sorts the planes; here the
/// series is chosen and the patient frame turned into NIfTI's.
///
/// Geometry: voxel (i, j, k) is column i, row j of plane k, the planes sorted along the normal of
/// Image Orientation (Patient). DICOM places a voxel in LPS (x to the patient's left, y to the
/// back, z to the head); NIfTI in RAS: the first two rows of the matrix change sign. As a NIfTI
/// from dcm2niix, the voxels stay in the order the files store them; only the matrix says where
/// they lie. A patient frame does not say where a mouse's head is (the animal lies as it was put
/// on the bed, and scanners record a human position such as FFS): --orientation auto still
/// detects the layout from the image; --orientation header reads this matrix.
package enum DicomSeriesReader {
    /// A folder, a file with the DICOM preamble ("DICM" at byte 128), or a .dcm file.
    package static func looksLikeDicom(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        if (info.st_mode & S_IFMT) == S_IFDIR { return true }
        if path.lowercased().hasSuffix(".dcm") { return true }
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 132)
        guard fread(&head, 1, 132, file) == 132 else { return false }
        return Array(head[128..<132]) == Array("DICM".utf8)
    }

    /// The series in a folder (or file): UID, modality, description, file count.
    package static func listSeries(_ path: String) throws -> [DicomSeriesInfo] {
        let source = try open(path)
        defer { db_close(source) }
        return (0..<db_series_count(source)).map { info(source, $0) }
    }

    static func open(_ path: String) throws -> OpaquePointer {
        var message = [CChar](repeating: 0, count: 1024)
        guard let source = db_open(path, &message, message.count) else {
            let text = String(cString: message)
            throw AimosError(text.hasPrefix("cannot open") ? .io : .format, text)
        }
        return source
    }

    static func info(_ source: OpaquePointer, _ s: Int32) -> DicomSeriesInfo {
        DicomSeriesInfo(uid: String(cString: db_series_uid(source, s)), description: String(cString: db_series_description(source, s)),
                        modality: String(cString: db_series_modality(source, s)), fileCount: Int(db_series_file_count(source, s)))
    }

    /// The series `uid` names, or the only one; otherwise an error listing them.
    static func choose(_ source: OpaquePointer, uid: String?, path: String) throws -> Int32 {
        let all = (0..<db_series_count(source)).map { info(source, $0) }
        let listing = all.map { s in
            "\(s.uid) (\([s.modality, s.description].filter { !$0.isEmpty }.joined(separator: ", ")), \(s.fileCount) file\(s.fileCount == 1 ? "" : "s"))"
        }.joined(separator: "; ")
        if let uid = uid {
            guard let index = all.firstIndex(where: { $0.uid == uid }) else {
                throw AimosError(.invalidArgument, "'\(path)' holds no DICOM series \(uid); it holds: \(listing)")
            }
            return Int32(index)
        }
        guard all.count == 1 else {
            throw AimosError(.invalidArgument, "'\(path)' holds \(all.count) DICOM series; pick one with --series UID: \(listing)")
        }
        return 0
    }

    /// Reads series `uid` (or the only one) into a float32 image with its RAS geometry.
    static func read(_ path: String, series uid: String?) throws -> (image: OpaquePointer, info: DicomSeriesInfo) {
        var trial = [CChar](repeating: 0, count: 1024)
        guard db_trial_read(path, uid, &trial, trial.count) == 0 else {
            throw AimosError(.format, String(cString: trial))
        }
        let source = try open(path)
        defer { db_close(source) }
        let s = try choose(source, uid: uid, path: path)
        var geometry = db_geometry()
        var message = [CChar](repeating: 0, count: 1024)
        guard db_prepare(source, s, &geometry, &message, message.count) == 0 else {
            throw AimosError(.format, "'\(path)': \(String(cString: message))")
        }
        let dims = [geometry.dims.0, geometry.dims.1, geometry.dims.2]
        guard dims.allSatisfy({ $0 > 0 && $0 <= Int64(VoxelVolume.maxDimension) }) else {
            throw AimosError(.format, "'\(path)': a series of \(dims) voxels")
        }
        var lps = withUnsafeBytes(of: geometry.affine_lps) { Array($0.bindMemory(to: Double.self)) }
        // LPS -> RAS: negate the x and y rows.
        for c in 0..<4 { lps[c] = 0 - lps[c]; lps[4 + c] = 0 - lps[4 + c] }   // 0 - x: no -0 in the header
        guard let image = nb_make_float(dims, lps, &message, message.count) else {
            throw AimosError(.outOfMemory, "'\(path)': cannot allocate \(dims[0] * dims[1] * dims[2] * 4) bytes for the scan")
        }
        let read = db_read_voxels(source, s, nb_mutable_data(image).assumingMemoryBound(to: Float.self),
                                  dims[0] * dims[1] * dims[2], &message, message.count)
        guard read == 0 else {
            nb_free(image)
            throw AimosError(read == -2 ? .unsupported : .format, "'\(path)': \(String(cString: message))")
        }
        var info = info(source, s)
        info.units = text(geometry.units)
        info.decayCorrection = text(geometry.decay_correction)
        info.rescaleType = text(geometry.rescale_type)
        info.patientPosition = text(geometry.patient_position)
        info.transferSyntax = text(geometry.transfer_syntax)
        info.planesPerFile = Int(geometry.planes_per_file)
        return (image, info)
    }

    /// A fixed-size C char array (a tuple in Swift) as a String.
    static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
