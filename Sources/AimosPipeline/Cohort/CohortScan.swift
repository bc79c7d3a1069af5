import AimosCore

/// One scan of a cohort: where it is, who it shows (mouse, time point, annotator, when the
/// cohort list says), and the name its outputs get.
package struct CohortScan: Equatable {
    package let path: String
    package var mouse: String?
    package var timepoint: String?
    package var annotator: String?
    /// 1-based position in the cohort, for the {index} field of the naming pattern.
    package let index: Int

    package init(path: String, mouse: String? = nil, timepoint: String? = nil, annotator: String? = nil, index: Int) {
        self.path = path
        self.mouse = mouse
        self.timepoint = timepoint
        self.annotator = annotator
        self.index = index
    }

    /// The input's file name without its extension (.nii.gz, .nii, .hdr, .img, .tif, .tiff,
    /// .dcm); a folder's own name.
    package var stem: String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        var name = String(trimmed.split(separator: "/").last ?? Substring(trimmed))
        if name == "." || name == ".." { name = String(Provenance.absolutePath(path).split(separator: "/").last ?? "scan") }
        for suffix in [".nii.gz", ".nii", ".hdr", ".img", ".ome.tiff", ".ome.tif", ".tiff", ".tif", ".dcm"]
        where name.lowercased().hasSuffix(suffix) && name.count > suffix.count {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    /// The naming pattern's fields, with the scan's values.
    package static let patternFields = ["stem", "mouse", "timepoint", "annotator", "index"]

    /// The outputs' name from `pattern` ({stem}, {mouse}, {timepoint}, {annotator}, {index}).
    /// A field the scan lacks, or a name that is not a plain file name, is an error.
    package func name(pattern: String) throws -> String {
        var out = "", field: String?
        for c in pattern {
            if var f = field {
                if c == "}" {
                    out += try value(of: f, pattern: pattern)
                    field = nil
                } else {
                    f.append(c)
                    field = f
                }
            } else if c == "{" {
                field = ""
            } else {
                out.append(c)
            }
        }
        guard field == nil else { throw AimosError(.invalidArgument, "--name '\(pattern)': a '{' is not closed") }
        guard !out.isEmpty, out != ".", out != "..", !out.contains("/"), !out.hasPrefix("."),
              !out.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw AimosError(.invalidArgument, "--name '\(pattern)' gives '\(out)' for '\(path)'; a scan's name must be a plain file name (no '/', not starting with '.')")
        }
        return out
    }

    private func value(of field: String, pattern: String) throws -> String {
        let value: String?
        switch field {
        case "stem": value = stem
        case "mouse": value = mouse
        case "timepoint": value = timepoint
        case "annotator": value = annotator
        case "index": value = String(index)
        default:
            throw AimosError(.invalidArgument, "--name '\(pattern)': unknown field {\(field)}; the fields are \(CohortScan.patternFields.map { "{\($0)}" }.joined(separator: ", "))")
        }
        guard let v = value, !v.isEmpty else {
            throw AimosError(.invalidArgument, "--name '\(pattern)': '\(path)' has no \(field) (give it in the cohort list's \(field) column)")
        }
        return v
    }
}

/// The scans a cohort run takes: --input values (a folder of NIfTI files stands for each of
/// them), or the rows of a cohort list (CSV: path, and optionally mouse, timepoint, annotator;
/// relative paths are relative to the list's folder).
package enum CohortInputs {
    static let niftiSuffixes = [".nii.gz", ".nii", ".hdr"]

    package static func scans(inputs: [String]) throws -> [CohortScan] {
        var paths: [String] = []
        for input in inputs {
            if FolderListing.isDirectory(input), let files = try niftiFiles(in: input) {
                paths += files
            } else {
                paths.append(input)
            }
        }
        return paths.enumerated().map { CohortScan(path: $0.element, index: $0.offset + 1) }
    }

    /// The NIfTI files of a folder (natural order), or nil when it holds none (then the folder
    /// is one scan: a DICOM series, TIFF planes).
    static func niftiFiles(in folder: String) throws -> [String]? {
        let names = try FolderListing.regularFiles(in: folder).filter { n in niftiSuffixes.contains { n.lowercased().hasSuffix($0) } }
        let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        return names.isEmpty ? nil : FolderListing.naturallyOrdered(names).map { base + "/" + $0 }
    }

    package static func scans(listPath: String) throws -> [CohortScan] {
        let table = try CSVTable(path: listPath)
        guard let pathColumn = table.column("path") else {
            throw AimosError(.format, "'\(listPath)': a cohort list needs a 'path' column (and optionally mouse, timepoint, annotator); it has \(table.header.joined(separator: ", "))")
        }
        guard !table.rows.isEmpty else { throw AimosError(.format, "'\(listPath)' lists no scans") }
        let folder = AtomicOutputs.directory(of: listPath)
        func cell(_ row: [String], _ name: String) -> String? {
            guard let c = table.column(name), !row[c].isEmpty else { return nil }
            return row[c]
        }
        return try table.rows.enumerated().map { n, row in
            let given = row[pathColumn]
            guard !given.isEmpty else { throw AimosError(.format, "'\(listPath)' row \(n + 2) has an empty path") }
            let path = given.hasPrefix("/") ? given : folder + "/" + given
            return CohortScan(path: path, mouse: cell(row, "mouse"), timepoint: cell(row, "timepoint"),
                              annotator: cell(row, "annotator"), index: n + 1)
        }
    }

    /// Each scan's name from the pattern; two scans of one name are refused before any work.
    package static func names(_ scans: [CohortScan], pattern: String) throws -> [String] {
        let names = try scans.map { try $0.name(pattern: pattern) }
        var seen: [String: String] = [:]
        for (scan, name) in zip(scans, names) {
            if let other = seen[name] {
                throw AimosError(.invalidArgument, "'\(other)' and '\(scan.path)' would both be named '\(name)'; give --name a pattern that tells them apart, such as '{mouse}_{timepoint}' or '{stem}_{index}'")
            }
            seen[name] = scan.path
        }
        return names
    }
}
