import AimosCore
import CTiffBridge

#if canImport(Glibc)
import Glibc
#endif

/// A light-sheet stack in TIFF: a folder of single-plane files (natural name order) or one
/// multi-page TIFF or BigTIFF. Planes are read one at a time (readPlane), never the volume.
/// The voxel size comes from OME-XML (PhysicalSizeX/Y/Z) or an ImageJ description (unit,
/// spacing and the resolution tags) when present.
package final class TiffStack {
    package let path: String
    package let width: Int, height: Int, planes: Int
    package let sample: StackAveraging.Sample
    /// The voxel size in mm from the file's metadata, nil when it records none.
    package let recordedVoxelSize: [Double]?
    /// The folder's plane files, or empty for a multi-page file.
    private let planeFiles: [String]
    /// The first page's layout, which every page read must still have.
    private let layout: tb_page_info
    private var file: OpaquePointer?

    package var planeBytes: Int { width * height * sample.bytes }
    /// One plane is held at a time; a header claiming more than this is refused before any
    /// allocation (a light-sheet camera's plane is a few hundred MB at most).
    static let maxPlaneBytes = 1 << 30

    /// Whether `path` is a TIFF stack: a .tif/.tiff file (or one starting with a TIFF
    /// signature), or a folder whose .tif/.tiff files outnumber its other files (a DICOM folder
    /// with a thumbnail beside it stays DICOM).
    package static func looksLikeTiff(_ path: String) -> Bool {
        if FolderListing.isDirectory(path) {
            guard let all = try? FolderListing.regularFiles(in: path) else { return false }
            let planes = all.filter(isTiffName).count
            return planes > 0 && planes > all.count - planes
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".tif") || lower.hasSuffix(".tiff") { return true }
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var head = [UInt8](repeating: 0, count: 4)
        guard fread(&head, 1, 4, f) == 4 else { return false }
        return [[0x49, 0x49, 42, 0], [0x4D, 0x4D, 0, 42], [0x49, 0x49, 43, 0], [0x4D, 0x4D, 0, 43]].contains(head)
    }

    static func isTiffName(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.hasSuffix(".tif") || n.hasSuffix(".tiff")
    }

    static func planeNames(in folder: String) throws -> [String] {
        FolderListing.naturallyOrdered(try FolderListing.regularFiles(in: folder).filter(isTiffName))
    }

    /// Opens the stack and checks that every plane has one layout (headers only: no pixels read).
    package init(path: String) throws {
        self.path = path
        var message = [CChar](repeating: 0, count: 512)
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        let layouts: [(info: tb_page_info, description: String?)]
        if FolderListing.isDirectory(path) {
            let names = try TiffStack.planeNames(in: path)
            guard !names.isEmpty else { throw AimosError(.invalidArgument, "'\(path)' holds no .tif/.tiff planes") }
            planeFiles = names.map { base + "/" + $0 }
            guard planeFiles.count <= VoxelVolume.maxDimension else {
                throw AimosError(.format, "'\(path)' holds \(planeFiles.count) planes; at most \(VoxelVolume.maxDimension)")
            }
            var found: [(tb_page_info, String?)] = []
            for file in planeFiles {
                guard let f = tb_open(file, &message, message.count) else {
                    throw AimosError(.format, "'\(file)': \(String(cString: message))")
                }
                defer { tb_close(f) }
                let pages = tb_page_count(f, &message, message.count)
                guard pages == 1 else {
                    throw AimosError(.format, pages < 0 ? "'\(file)': \(String(cString: message))"
                        : "'\(file)' holds \(pages) pages; a folder of planes holds one plane per file (give a multi-page stack as its file)")
                }
                found.append(try TiffStack.pageInfo(f, 0, file, first: found.isEmpty, &message))
            }
            layouts = found
        } else {
            planeFiles = []
            guard let f = tb_open(path, &message, message.count) else {
                throw AimosError(.format, "'\(path)': \(String(cString: message))")
            }
            file = f
            let count = tb_page_count(f, &message, message.count)
            guard count > 0 else { tb_close(f); throw AimosError(.format, "'\(path)': \(String(cString: message))") }
            guard count <= Int64(VoxelVolume.maxDimension) else {
                tb_close(f)
                throw AimosError(.format, "'\(path)' has \(count) pages; at most \(VoxelVolume.maxDimension)")
            }
            do {
                layouts = try (0..<count).map { try TiffStack.pageInfo(f, $0, path, first: $0 == 0, &message) }
            } catch {
                tb_close(f)
                throw error
            }
        }
        let first = layouts[0].info
        layout = first
        guard let sample = StackAveraging.Sample(tiffBits: first.bits_per_sample, format: first.sample_format) else {
            if let f = file { tb_close(f) }
            throw AimosError(.unsupported, "'\(path)': \(first.bits_per_sample)-bit samples of format \(first.sample_format); aimos reads 8- and 16-bit integer, 32-bit integer and float planes")
        }
        self.sample = sample
        width = Int(first.width)
        height = Int(first.height)
        planes = layouts.count
        for (z, page) in layouts.enumerated() {
            let i = page.info
            guard i.width == first.width, i.height == first.height, i.bits_per_sample == first.bits_per_sample,
                  i.sample_format == first.sample_format else {
                if let f = file { tb_close(f) }
                let which = planeFiles.isEmpty ? "page \(z + 1)" : "'\(planeFiles[z])'"
                throw AimosError(.format, "'\(path)': \(which) is \(i.width) x \(i.height), \(i.bits_per_sample)-bit; the first plane is \(first.width) x \(first.height), \(first.bits_per_sample)-bit. A stack's planes must agree")
            }
        }
        guard width <= VoxelVolume.maxDimension, height <= VoxelVolume.maxDimension, planes <= VoxelVolume.maxDimension else {
            if let f = file { tb_close(f) }
            throw AimosError(.format, "'\(path)' is \(width) x \(height) x \(planes); each dimension must be at most \(VoxelVolume.maxDimension)")
        }
        let description = layouts[0].description
        do {
            guard width * height * sample.bytes <= TiffStack.maxPlaneBytes else {
                throw AimosError(.format, "'\(path)' claims planes of \(width) x \(height) \(sample.bytes * 8)-bit samples (\(width * height * sample.bytes) bytes); aimos reads planes of up to 1 GiB")
            }
            try TiffStack.checkOMEDimensions(description, pages: planeFiles.isEmpty ? layouts.count : nil, path: path)
            if !planeFiles.isEmpty { try TiffStack.checkPlaneNumbering(planeFiles.map { String($0.split(separator: "/").last!) }, folder: path) }
        } catch {
            if let f = file { tb_close(f) }
            throw error
        }
        recordedVoxelSize = TiffVoxelSize.parse(description: description, page: first)
    }

    deinit { if let f = file { tb_close(f) } }

    /// OME-XML that describes several channels or time points, or another number of planes
    /// than the file has, is refused: its pages would be read as depth.
    static func checkOMEDimensions(_ description: String?, pages: Int?, path: String) throws {
        guard let text = description else { return }
        if text.hasPrefix("ImageJ=") {
            let fields = TiffVoxelSize.imageJFields(text)
            for (field, what) in [("channels", "channels"), ("frames", "time points")] {
                if let n = fields[field].flatMap(Int.init), n > 1 {
                    throw AimosError(.unsupported, "'\(path)' holds \(n) \(what) (ImageJ \(field)=\(n)); aimos segments one 3D stack: save one channel and time point as its own stack (Fiji: Image > Duplicate)")
                }
            }
            if let pages = pages, let n = fields["images"].flatMap(Int.init), n != pages, n > 1 {
                throw AimosError(.format, "'\(path)': its ImageJ description says images=\(n) but the file has \(pages) pages")
            }
            return
        }
        guard TiffVoxelSize.attribute("SizeX", in: text) != nil else { return }
        for (field, what) in [("SizeC", "channels"), ("SizeT", "time points")] {
            if let n = TiffVoxelSize.attribute(field, in: text).flatMap(Int.init), n > 1 {
                throw AimosError(.unsupported, "'\(path)' holds \(n) \(what) (OME \(field)=\(n)); aimos segments one 3D stack: save one channel and time point as its own stack (Fiji: Image > Duplicate)")
            }
        }
        if let pages = pages, let z = TiffVoxelSize.attribute("SizeZ", in: text).flatMap(Int.init), z != pages {
            throw AimosError(.format, "'\(path)': its OME-XML says SizeZ=\(z) but the file has \(pages) pages (truncated, or pages of another kind?)")
        }
    }

    /// A folder's planes must be one series: one name pattern (text, a number, text) and
    /// consecutive numbers, so that a stray file or a missing plane is not read as a plane.
    static func checkPlaneNumbering(_ names: [String], folder: String) throws {
        guard names.count > 1 else { return }
        func parts(_ name: String) -> (String, Int, String)? {
            let chars = Array(name)
            guard let last = chars.lastIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
            var first = last
            while first > 0, chars[first - 1].isASCII, chars[first - 1].isNumber { first -= 1 }
            guard let n = Int(String(chars[first...last])) else { return nil }
            return (String(chars[..<first]), n, String(chars[(last + 1)...]))
        }
        guard let head = parts(names[0]) else {
            throw AimosError(.format, "'\(folder)': '\(names[0])' has no plane number; a folder of planes holds files named like plane_0001.tif")
        }
        for (k, name) in names.enumerated() {
            guard let p = parts(name), p.0 == head.0, p.2 == head.2 else {
                throw AimosError(.format, "'\(folder)': '\(name)' is not named like '\(names[0])'; a folder of planes must hold one series of planes and nothing else")
            }
            guard p.1 == head.1 + k else {
                throw AimosError(.format, "'\(folder)': the plane numbers jump from \(head.1 + k - 1) to \(p.1) at '\(name)' (a missing or duplicate plane)")
            }
        }
    }

    private static func pageInfo(_ f: OpaquePointer, _ index: Int64, _ path: String, first: Bool,
                                 _ message: inout [CChar]) throws -> (tb_page_info, String?) {
        var info = tb_page_info()
        var description: UnsafePointer<CChar>?
        let status = first ? tb_page_info_at(f, index, &info, &description, &message, message.count)
                           : tb_page_info_at(f, index, &info, nil, &message, message.count)
        guard status == 0 else {
            throw AimosError(.format, "'\(path)' page \(index + 1): \(String(cString: message))")
        }
        guard info.width > 0, info.height > 0 else { throw AimosError(.format, "'\(path)' page \(index + 1) is \(info.width) x \(info.height)") }
        guard info.samples_per_pixel == 1 else {
            throw AimosError(.unsupported, "'\(path)' has \(abs(info.samples_per_pixel)) samples per pixel (colour or channels interleaved); aimos reads one channel per plane: save each channel as its own stack")
        }
        return (info, description.map { String(cString: $0) })
    }

    /// Decodes plane z (0-based) into `buffer` (planeBytes bytes, x fastest, rows top down).
    package func readPlane(_ z: Int, into buffer: UnsafeMutableRawPointer) throws {
        var message = [CChar](repeating: 0, count: 512)
        if planeFiles.isEmpty {
            var expected = layout
            guard tb_read_page(file, Int64(z), &expected, buffer, planeBytes, &message, message.count) == 0 else {
                throw AimosError(.format, "'\(path)' page \(z + 1): \(String(cString: message))")
            }
            return
        }
        let name = planeFiles[z]
        guard let f = tb_open(name, &message, message.count) else { throw AimosError(.format, "'\(name)': \(String(cString: message))") }
        defer { tb_close(f) }
        var expected = layout
        guard tb_read_page(f, 0, &expected, buffer, planeBytes, &message, message.count) == 0 else {
            throw AimosError(.format, "'\(name)': \(String(cString: message))")
        }
    }
}

/// The voxel size a TIFF records: OME-XML's PhysicalSizeX/Y/Z (and their units, micrometres by
/// default), else ImageJ's description (unit=..., spacing=...) with the X/Y resolution tags.
enum TiffVoxelSize {
    /// Length units as OME and ImageJ write them (ImageJ escapes µ as \u00B5).
    static let millimetresPer: [String: Double] = ["µm": 0.001, "um": 0.001, "micron": 0.001, "microns": 0.001, "\u{03BC}m": 0.001,
                                                   "\\u00B5m": 0.001, "\\u00b5m": 0.001,
                                                   "mm": 1, "nm": 1e-6, "cm": 10, "m": 1000]

    static func parse(description: String?, page: tb_page_info) -> [Double]? {
        guard let text = description else { return nil }
        if attribute("PhysicalSizeX", in: text) != nil {
            var sizes: [Double] = []
            for axis in ["X", "Y", "Z"] {
                guard let value = attribute("PhysicalSize\(axis)", in: text).flatMap(Double.init), value.isFinite, value > 0 else { return nil }
                let unit = attribute("PhysicalSize\(axis)Unit", in: text) ?? "µm"
                guard let scale = millimetresPer[unit] else { return nil }
                sizes.append(value * scale)
            }
            return sizes
        }
        if text.hasPrefix("ImageJ=") {
            let fields = imageJFields(text)
            guard let unit = fields["unit"].flatMap({ millimetresPer[$0] }),
                  let spacing = fields["spacing"].flatMap(Double.init), spacing.isFinite, spacing > 0,
                  page.x_resolution > 0, page.y_resolution > 0 else { return nil }
            // The resolution tags pass through float32: 1 / 250 comes back as 0.24999999 um.
            return [unit / page.x_resolution, unit / page.y_resolution, unit * spacing].map { significant($0, 6) }
        }
        return nil
    }

    static func significant(_ x: Double, _ digits: Int) -> Double {
        guard x.isFinite, x > 0 else { return x }
        let scale = pow(10, Double(digits - 1) - floor(log10(x)))
        return (x * scale).rounded() / scale
    }

    /// ImageJ's description: key=value lines.
    static func imageJFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    /// The value of `name="..."` in XML text (the name after any whitespace).
    static func attribute(_ name: String, in text: String) -> String? {
        let bytes = Array(text.utf8), key = Array((name + "=\"").utf8)
        guard bytes.count > key.count else { return nil }
        for i in 1...(bytes.count - key.count) where [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i - 1])
            && bytes[i..<(i + key.count)].elementsEqual(key) {
            let rest = bytes[(i + key.count)...]
            guard let end = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: rest[..<end], as: UTF8.self)
        }
        return nil
    }
}

extension StackAveraging.Sample {
    /// The samples libtiff decodes that aimos takes: bits per sample and SampleFormat (1
    /// unsigned, 2 signed integer, 3 IEEE float).
    init?(tiffBits bits: Int32, format: Int32) {
        switch (bits, format) {
        case (8, 1): self = .uint8
        case (16, 1): self = .uint16
        case (16, 2): self = .int16
        case (32, 1): self = .uint32
        case (32, 2): self = .int32
        case (32, 3): self = .float32
        default: return nil
        }
    }
}
