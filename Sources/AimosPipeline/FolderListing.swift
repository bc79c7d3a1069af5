import AimosCore

#if canImport(Glibc)
import Glibc
#endif

/// The files of a folder, for inputs that are folders (a cohort of scans, TIFF planes, a DICOM
/// series' checksum). Hidden files (".name", such as aimos's own temporary outputs) are left out.
package enum FolderListing {
    /// Whether `path` is a directory.
    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Every entry of `folder` but . and .., hidden ones and folders included, unordered.
    package static func entries(in folder: String) throws -> [String] {
        guard let dir = opendir(folder) else {
            throw AimosError(.io, "cannot list '\(folder)': \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// The names of the regular files in `folder` (symbolic links followed), in byte order.
    package static func regularFiles(in folder: String) throws -> [String] {
        try entries(in: folder).filter { name in
            var info = stat()
            return !name.hasPrefix(".") && stat(folder + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Natural order: runs of digits compare by value, so plane_2.tif comes before plane_10.tif.
    package static func naturallyOrdered(_ names: [String]) -> [String] {
        names.sorted { naturalKey($0).lexicographicallyPrecedes(naturalKey($1)) || (naturalKey($0) == naturalKey($1) && $0 < $1) }
    }

    /// A name as chunks: text chunks compare as bytes, digit runs by value (leading zeros dropped).
    private static func naturalKey(_ name: String) -> [NaturalChunk] {
        var chunks: [NaturalChunk] = []
        var digits = "", text = ""
        for c in name {
            if c.isASCII && c.isNumber {
                if !text.isEmpty { chunks.append(.text(text)); text = "" }
                digits.append(c)
            } else {
                if !digits.isEmpty { chunks.append(.number(digits)); digits = "" }
                text.append(c)
            }
        }
        if !digits.isEmpty { chunks.append(.number(digits)) }
        if !text.isEmpty { chunks.append(.text(text)) }
        return chunks
    }
}

private enum NaturalChunk: Comparable {
    case number(String), text(String)

    static func < (a: NaturalChunk, b: NaturalChunk) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)):
            let x0 = x.drop { $0 == "0" }, y0 = y.drop { $0 == "0" }
            return x0.count != y0.count ? x0.count < y0.count : x0 < y0
        case (.number, .text): return true
        case (.text, .number): return false
        case let (.text(x), .text(y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        }
    }
}
