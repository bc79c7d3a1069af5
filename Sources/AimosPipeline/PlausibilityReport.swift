import AimosCore
import Foundation

/// Whether a segmentation looks like a mouse, with no reference labels: for each animal and
/// organ the model knows, is it found, as one main piece (or a pair), within the adult-mouse
/// volume range, and in anatomical order along the head-to-tail axis (AdultMouseAnatomy).
/// Organs that fail a check are flagged with the reason; the report runs on any scan.
package struct PlausibilityReport {
    package struct Finding {
        /// 1-based animal number, nil for a scan with one animal.
        package let animal: Int?
        package let organ: String
        package let voxels: Int
        package let volumeML: Double
        package let pieces: Int
        /// Share of the organ's voxels in its largest piece (two largest for a pair).
        package let mainShare: Double
        /// Centre along the head-to-tail axis in mm, growing towards the head; nil when the
        /// layout is unknown or the organ absent.
        package let headwardMM: Double?
        package var problems: [String]
        package var plausible: Bool { problems.isEmpty }
    }

    package let findings: [Finding]
    /// Checks that could not be made, and why (unknown layout, doubtful voxel size).
    package let notChecked: [String]
    package var flagged: [Finding] { findings.filter { !$0.plausible } }

    /// `headward[k]`: for animal k the voxel axis that runs head to tail and whether its index
    /// grows towards the head (nil: layout unknown, order not checked). `checkVolumes` false
    /// when the voxel size is doubtful.
    package init(labels: UnsafePointer<UInt8>, dims: [Int], spacing: [Double], classes: [String],
                animals: Int, animalOf: ((Int) -> Int?)?, headward: [(axis: Int, positive: Bool)?],
                checkVolumes: Bool = true) {
        let count = dims[0] * dims[1] * dims[2]
        // Each labelled voxel's animal, asked once (-1: none); nil for a scan with one animal.
        let owners: [Int32]? = animals > 1 ? (0..<count).map { labels[$0] == 0 ? -1 : Int32(animalOf?($0) ?? -1) } : nil
        let pieces = PlausibilityReport.pieceSizes(labels: labels, dims: dims, owners: owners)
        var voxels = [[Int]](repeating: [Int](repeating: 0, count: classes.count), count: max(1, animals))
        var centre = [[[Double]]](repeating: [[Double]](repeating: [0, 0, 0], count: classes.count), count: max(1, animals))
        let plane = dims[0] * dims[1]
        for i in 0..<count where labels[i] != 0 && Int(labels[i]) < classes.count {
            let a = owners.map { Int($0[i]) } ?? 0
            guard a >= 0, a < voxels.count else { continue }
            let c = Int(labels[i])
            voxels[a][c] += 1
            centre[a][c][0] += Double(i % dims[0])
            centre[a][c][1] += Double((i / dims[0]) % dims[1])
            centre[a][c][2] += Double(i / plane)
        }
        let voxelML = spacing[0] * spacing[1] * spacing[2] / 1000
        var findings: [Finding] = []
        var notChecked: [String] = []
        if !checkVolumes { notChecked.append("volumes: the voxel size is doubtful (confirm it with --voxel-size)") }
        for a in 0..<max(1, animals) {
            let who = animals > 1 ? "animal \(a + 1): " : ""
            let direction = a < headward.count ? headward[a] : nil
            if direction == nil { notChecked.append("\(who)head-to-tail order: the scan's layout is unknown (--orientation none)") }
            var animalFindings: [Finding] = []
            for (c, name) in classes.enumerated() where c > 0 {
                guard let norm = AdultMouseAnatomy.organ(named: name) else { continue }
                let n = voxels[a][c]
                let sizes = (pieces[PieceKey(animal: a, label: c)] ?? []).sorted(by: >)
                let kept = norm.pieces == .pair ? sizes.prefix(2).reduce(0, +) : (sizes.first ?? 0)
                let share = n > 0 ? Double(kept) / Double(n) : 0
                var position: Double?
                if let d = direction, n > 0 {
                    let mean = centre[a][c][d.axis] / Double(n)
                    position = (d.positive ? mean : Double(dims[d.axis] - 1) - mean) * spacing[d.axis]
                }
                var problems: [String] = []
                let ml = Double(n) * voxelML
                if n == 0 {
                    problems.append("not found")
                } else {
                    if checkVolumes && !norm.volumeML.contains(ml) {
                        problems.append("volume \(fixed(ml, 3)) mL outside the adult-mouse range \(fixed(norm.volumeML.lowerBound, 3))-\(fixed(norm.volumeML.upperBound, 2)) mL")
                    }
                    if norm.pieces != nil && share < AdultMouseAnatomy.mainShare {
                        let what = norm.pieces == .pair ? "the two largest hold" : "the largest holds"
                        problems.append("scattered: \(sizes.count) pieces, \(what) \(Int((share * 100).rounded())) %")
                    }
                }
                animalFindings.append(Finding(animal: animals > 1 ? a + 1 : nil, organ: name, voxels: n, volumeML: ml,
                                              pieces: sizes.count, mainShare: share, headwardMM: position, problems: problems))
            }
            PlausibilityReport.checkOrder(&animalFindings)
            findings += animalFindings
        }
        self.findings = findings
        self.notChecked = notChecked
    }

    /// Flags both organs of every pair found in the wrong head-to-tail order.
    static func checkOrder(_ findings: inout [Finding]) {
        func index(_ name: String) -> Int? { findings.firstIndex { $0.organ == name && $0.headwardMM != nil } }
        for (cranial, caudal) in AdultMouseAnatomy.headToTailOrder {
            guard let i = index(cranial), let j = index(caudal),
                  let head = findings[i].headwardMM, let tail = findings[j].headwardMM, head <= tail else { continue }
            findings[i].problems.append("lies tailward of \(caudal) (expected headward)")
            findings[j].problems.append("lies headward of \(cranial) (expected tailward)")
        }
    }

    struct PieceKey: Hashable { let animal: Int, label: Int }

    /// Voxel counts of the 26-connected pieces of every (animal, label), by flood fill;
    /// `owners` as in init (nil: one animal), voxels of no animal left out.
    static func pieceSizes(labels: UnsafePointer<UInt8>, dims: [Int], owners: [Int32]?) -> [PieceKey: [Int]] {
        func owner(_ i: Int) -> Int { owners.map { Int($0[i]) } ?? 0 }
        let count = dims[0] * dims[1] * dims[2]
        var seen = [Bool](repeating: false, count: count)
        var sizes: [PieceKey: [Int]] = [:]
        var stack: [Int] = []
        let plane = dims[0] * dims[1]
        for seed in 0..<count where labels[seed] != 0 && !seen[seed] && owner(seed) >= 0 {
            let label = labels[seed]
            let animal = owner(seed)
            seen[seed] = true
            stack.append(seed)
            var size = 0
            while let i = stack.popLast() {
                size += 1
                let x = i % dims[0], y = (i / dims[0]) % dims[1], z = i / plane
                for dz in -1...1 where z + dz >= 0 && z + dz < dims[2] {
                    for dy in -1...1 where y + dy >= 0 && y + dy < dims[1] {
                        for dx in -1...1 where x + dx >= 0 && x + dx < dims[0] {
                            let j = i + dx + dy * dims[0] + dz * plane
                            if !seen[j] && labels[j] == label && owner(j) == animal {
                                seen[j] = true
                                stack.append(j)
                            }
                        }
                    }
                }
            }
            sizes[PieceKey(animal: animal, label: Int(label)), default: []].append(size)
        }
        return sizes
    }

    /// One line per flagged organ (or that all are plausible), then what was not checked.
    package func summary() -> String {
        var lines: [String] = []
        let flagged = self.flagged
        if flagged.isEmpty {
            lines.append("plausibility: every organ plausible (\(findings.count) checked)")
        } else {
            lines.append("plausibility: \(flagged.count) of \(findings.count) organs flagged")
            for f in flagged {
                lines.append("  \(f.animal.map { "animal \($0) " } ?? "")\(f.organ): \(f.problems.joined(separator: "; "))")
            }
        }
        lines += notChecked.map { "  not checked: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// The whole report as JSON: one object per organ and the checks not made.
    package func json() -> String {
        let rows = findings.map { f -> JSONValue in
            var fields: [(String, JSONValue)] = f.animal.map { [("animal", .int($0))] } ?? []
            fields += [("organ", .string(f.organ)), ("plausible", .bool(f.plausible)), ("voxels", .int(f.voxels)),
                       ("volume_ml", .real(f.volumeML)), ("pieces", .int(f.pieces)), ("main_share", .real(f.mainShare)),
                       ("headward_mm", .real(f.headwardMM)), ("problems", .array(f.problems.map(JSONValue.string)))]
            return .object(fields)
        }
        return JSONValue.object([("organs", .array(rows)), ("not_checked", .array(notChecked.map(JSONValue.string)))])
            .serialized(pretty: true) + "\n"
    }
}
