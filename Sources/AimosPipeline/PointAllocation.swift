import AimosCore

/// The organ of each point (the paper's metastasis allocation): points in voxel indices or
/// world mm (through the inverse of the map's sform, else qform, else the voxel size alone),
/// rounded to the nearest voxel; with a radius, every organ with a voxel centre within that
/// many mm. Points outside the grid are kept and marked, never dropped.
package struct PointAllocation {
    package struct Point {
        package let id: String
        package let given: [Double]
        package let voxel: [Int]
        package let inside: Bool
        package let organ: String
        package let nearby: [String]
    }

    package let points: [Point]
    package let counts: [(organ: String, points: Int)]
    package let radiusMM: Double?

    package enum Units { case voxels, millimetres }

    package init(map: LabelMapComparison.Map, dims: [Int], spacing: [Double], worldToVoxel: (([Double]) -> [Double]),
                points input: [(id: String, position: [Double])], units: Units, radiusMM: Double?) {
        func name(_ label: UInt8) -> String { label == 0 ? "background" : (map.names[Int(label)] ?? "label_\(label)") }
        var counts: [String: Int] = [:]
        var order: [String] = []
        points = input.map { id, position in
            let index = units == .voxels ? position : worldToVoxel(position)
            let voxel = index.map { Int(($0).rounded()) }
            let inside = (0..<3).allSatisfy { voxel[$0] >= 0 && voxel[$0] < dims[$0] }
            let organ = inside ? name(map.labels[(voxel[2] * dims[1] + voxel[1]) * dims[0] + voxel[0]]) : ""
            if inside {
                if counts[organ] == nil { order.append(organ) }
                counts[organ, default: 0] += 1
            }
            var nearby: [String] = []
            if let r = radiusMM {
                var found = Set<UInt8>()
                let lo = (0..<3).map { max(0, Int((index[$0] - r / spacing[$0]).rounded(.down))) }
                let hi = (0..<3).map { min(dims[$0] - 1, Int((index[$0] + r / spacing[$0]).rounded(.up))) }
                if (0..<3).allSatisfy({ lo[$0] <= hi[$0] }) {
                    for z in lo[2]...hi[2] {
                        for y in lo[1]...hi[1] {
                            for x in lo[0]...hi[0] {
                                let c = [x, y, z]
                                var d2 = 0.0
                                for a in 0..<3 { let d = (Double(c[a]) - index[a]) * spacing[a]; d2 += d * d }
                                let label = map.labels[(z * dims[1] + y) * dims[0] + x]
                                if d2 <= r * r && label != 0 { found.insert(label) }
                            }
                        }
                    }
                }
                nearby = found.sorted().map(name)
            }
            return Point(id: id, given: position, voxel: voxel, inside: inside, organ: organ, nearby: nearby)
        }
        self.counts = order.map { ($0, counts[$0]!) }
        self.radiusMM = radiusMM
    }

    package func pointsCSV() -> String {
        var header = ["point", "given_x", "given_y", "given_z", "voxel_i", "voxel_j", "voxel_k", "inside_grid", "organ"]
        if radiusMM != nil { header.append("organs_within_radius") }
        let lines = points.map { p -> String in
            var cells = [p.id] + p.given.map { String($0) } + p.voxel.map(String.init) + [p.inside ? "yes" : "no", p.organ]
            if radiusMM != nil { cells.append(p.nearby.joined(separator: ";")) }
            return cells.map(csvQuoted).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + lines).joined(separator: "\n") + "\n"
    }

    package func countsCSV() -> String {
        let outside = points.filter { !$0.inside }.count
        let lines = counts.map { "\(csvQuoted($0.organ)),\($0.points)" } + (outside > 0 ? ["outside_grid,\(outside)"] : [])
        return (["organ,points"] + lines).joined(separator: "\n") + "\n"
    }
}
