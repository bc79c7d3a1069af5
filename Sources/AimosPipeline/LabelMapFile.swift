import AimosCore

/// A label map read from NIfTI for the analysis commands (evaluate, disagreement, allocate):
/// its uint8 labels and the name of each label value, from `names` ("name=id,..."), else the
/// aimos header extension, else label_<k>.
package struct LabelMapFile {
    package let path: String
    package let scan: ScanImage
    package let map: LabelMapComparison.Map

    package init(path: String, names: String? = nil) throws {
        self.path = path
        scan = try ScanImage(niftiPath: path)
        let values = try Self.labels(of: scan, path: path)
        let table: [Int: String]
        if let names = names {
            table = try Self.parseNames(names)
        } else if let list = scan.labelNames() {
            table = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.offset, $0.element) })
        } else {
            table = Dictionary(uniqueKeysWithValues: (0...255).map { ($0, $0 == 0 ? "background" : "label_\($0)") })
        }
        map = LabelMapComparison.Map(labels: values, names: table)
    }

    /// The names of an ITK-SNAP label description file (`IDX R G B A VIS MSH "LABEL"` per line,
    /// `#` comments), as a name=id list for `names`.
    package static func namesFromITKSnap(path: String) throws -> String {
        let text = String(decoding: try FileBytes.read(path: path), as: UTF8.self)
        var entries: [String] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close,
                  let id = line.split(separator: " ").first.flatMap({ Int($0) }) else {
                throw AimosError(.format, "'\(path)' line \(n + 1) is not IDX R G B A VIS MSH \"LABEL\"")
            }
            let name = String(line[line.index(after: open)..<close])
            if id > 0 && !name.isEmpty { entries.append("\(name.replacingCommas)=\(id)") }
        }
        return entries.joined(separator: ",")
    }

    /// The voxels of `scan` as labels; FORMAT naming the voxel where one is not an integer 0...255.
    package static func labels(of scan: ScanImage, path: String) throws -> [UInt8] {
        var values = [UInt8](repeating: 0, count: scan.voxelCount)
        for i in 0..<scan.voxelCount {
            let v = scan.intensity(at: i)
            guard v >= 0, v <= 255, v == v.rounded() else {
                throw AimosError(.format, "'\(path)' voxel \(i) holds \(v): a label map holds integers 0...255")
            }
            values[i] = UInt8(v)
        }
        return values
    }

    /// "Heart=2,Liver=4" -> [0: background, 2: Heart, 4: Liver].
    package static func parseNames(_ text: String) throws -> [Int: String] {
        var table: [Int: String] = [0: "background"]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard parts.count == 2, let id = Int(parts[1]), (1...255).contains(id), !parts[0].isEmpty else {
                throw AimosError(.invalidArgument, "label names '\(entry)' are not name=id with id 1...255")
            }
            table[id] = parts[0]
        }
        return table
    }

    /// Refuses `other` unless it lies on this map's grid (dims, voxel size, orientation).
    package func checkSameGrid(_ other: LabelMapFile) throws {
        try checkSameGrid(other.scan, other.path)
    }

    package func checkSameGrid(_ b: ScanImage, _ pathB: String) throws {
        func refuse(_ what: String) -> AimosError {
            AimosError(.invalidArgument, "'\(pathB)' is not on the grid of '\(path)': \(what)")
        }
        guard scan.dims == b.dims else { throw refuse("dims \(b.dims) against \(scan.dims)") }
        for axis in 0..<3 where abs(scan.spacing[axis] - b.spacing[axis]) > 1e-5 * max(scan.spacing[axis], b.spacing[axis]) {
            throw refuse("voxel size \(b.spacing) mm against \(scan.spacing) mm")
        }
        if let ma = scan.worldMatrix(), let mb = b.worldMatrix() {
            for r in 0..<3 {
                for c in 0..<3 where abs(ma[r][c] - mb[r][c]) > 1e-4 * max(1, abs(ma[r][c])) {
                    throw refuse("orientation matrix \(mb) against \(ma)")
                }
            }
        }
    }
}

extension String {
    var replacingCommas: String { String(map { $0 == "," ? ";" : $0 }) }

    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
