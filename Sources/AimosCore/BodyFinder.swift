#if canImport(Glibc)
import Glibc
#endif

/// Finds the animals in a scan before it is sliced, so that every slice is resized from the
/// body's extent rather than from a field of view full of bed, tubes and air.
///
/// On a coarse grid (block means, about 1 mm, at most 160 blocks an axis):
/// 1. foreground = above Otsu's threshold (CoarseGrid.foreground); the volume's lowest value
///    and the value of most of its corners, where 1 % or more of the voxels hold exactly it
///    (the padding outside a CT reconstruction circle, often 0 HU), are left out;
/// 2. a morphological opening with a 5 mm box (2.5 mm either side; at least one block)
///    removes what is thinner than a body: beds, tubes, wires, the tail;
/// 3. the 6-connected components of what remains are the candidates; two that overlap across
///    the larger one's long axis and lie within 15 mm along it are one animal (a head parted
///    from the trunk at the neck); every group of at least a quarter of the largest one's
///    volume (and 300 mm3) is an animal. Animals side by side stay apart.
/// Each animal's box is its component's bounding box plus a 3 mm margin, in input voxels.
/// The body's length (its longest box side) tells whether the voxel size is plausible for a
/// mouse: 15 to 150 mm; otherwise the power of ten that makes it so is reported.
package enum BodyFinder {
    package static let plausibleLengthMM: ClosedRange<Double> = 15...150
    static let openingHalfWidthMM = 2.5
    static let marginMM = 3.0
    static let minimumAnimalMM3 = 300.0
    static let maxCoarseDimension = 160
    /// The opening reaches 2.5 mm along every axis, also where blocks are a single thin voxel
    /// (an odd dimension can leave one axis at block size 1); the bound only matters for a
    /// voxel size far too small, which the unit check then corrects.
    static let maxOpeningRadiusBlocks = 32

    package struct Animal {
        /// The animal's crop, in input voxels.
        package let box: VoxelBox
        /// Its opened body's volume in mm3 (in the voxel size used).
        package let bodyMM3: Double
        /// Per volume axis, how mirror-symmetric the body is across its centre along that axis
        /// (the correlation of the coarse intensities inside the body with their mirror image):
        /// highest across the left-right axis, as a mouse is bilaterally symmetric.
        package let mirrorSymmetry: [Double]
        /// Per volume axis, whether the body reaches the edge of the field of view there (its
        /// extent along that axis is then only a lower bound).
        package var cutByFieldOfView = [false, false, false]
    }

    package struct Outcome {
        /// Largest first is not stable across animals of a cohort: ordered along the volume axis
        /// on which they are spread most, lowest index first.
        package let animals: [Animal]
        /// Which animal owns each coarse block (-1: none), to keep neighbours' labels apart.
        package let ownership: VoxelOwnership?
        /// The largest animal's longest box side, in mm of the voxel size used.
        package let bodyLengthMM: Double
        /// nil when the length is plausible; else the power of ten by which the voxel size
        /// must be multiplied to make it so (0.001 for micrometres stored as millimetres).
        package let suggestedVoxelSizeFactor: Double?
    }

    /// The animals of `volume` with its voxel size as stated (`spacing` overrides it).
    package static func find(_ volume: VoxelVolume, spacing: [Double]? = nil) throws -> Outcome {
        let stated = spacing ?? volume.spacing
        let grid = try CoarseGrid(volume: volume, spacing: stated)
        let foreground = grid.foreground()
        var outcome = locate(grid: grid, foreground: foreground, spacing: stated)
        // A small animal (a young mouse, some 30 mm long and 8 mm high) can fall apart under the
        // 5 mm opening, into pieces too short for a mouse: then a gentler opening, if that keeps
        // it whole. Too short with both is a unit question, settled below.
        if let factor = outcome.suggestedVoxelSizeFactor, factor > 1 {
            let gentle = locate(grid: grid, foreground: foreground, spacing: stated, halfWidthMM: openingHalfWidthMM / 2)
            if gentle.suggestedVoxelSizeFactor == nil { return gentle }
        }
        // With an implausible unit the opening had the wrong size: redo it in the inferred unit,
        // but report the length and factor in the stated one.
        if let factor = outcome.suggestedVoxelSizeFactor {
            let corrected = locate(grid: grid, foreground: foreground, spacing: stated.map { $0 * factor })
            outcome = Outcome(animals: corrected.animals, ownership: corrected.ownership,
                              bodyLengthMM: corrected.bodyLengthMM / factor, suggestedVoxelSizeFactor: factor)
        }
        return outcome
    }

    private static func locate(grid: CoarseGrid, foreground: [UInt8], spacing: [Double],
                               halfWidthMM: Double = openingHalfWidthMM) -> Outcome {
        let blockMM = (0..<3).map { Double(grid.factor[$0]) * spacing[$0] }
        let radius = blockMM.map { max(1, min(maxOpeningRadiusBlocks, Int((halfWidthMM / $0).rounded()))) }
        var opened = grid.open(foreground, radius: radius)
        if !opened.contains(1) { opened = foreground }          // too small to open: keep what there is
        var (labels, sizes) = grid.components(opened)
        mergeAlongBodies(labels: &labels, sizes: &sizes, grid: grid, blockMM: blockMM)
        let blockMM3 = blockMM.reduce(1, *)
        let largest = sizes.max() ?? 0
        var chosen = sizes.indices.filter {
            sizes[$0] * 4 >= largest && Double(sizes[$0]) * blockMM3 >= minimumAnimalMM3
        }
        if chosen.isEmpty, largest > 0 { chosen = [sizes.firstIndex(of: largest)!] }
        var boxes = chosen.map { grid.boundingBox(of: Int32($0 + 1), in: labels) }
        guard !boxes.isEmpty else {
            return Outcome(animals: [Animal(box: VoxelBox(dims: grid.dims), bodyMM3: 0, mirrorSymmetry: [0, 0, 0])], ownership: nil,
                           bodyLengthMM: (0..<3).map { Double(grid.dims[$0]) * spacing[$0] }.max()!,
                           suggestedVoxelSizeFactor: nil)
        }
        // Order along the axis the animals are spread on (their centres differ most).
        let centres = boxes.map { b in (0..<3).map { Double(b.lower[$0] + b.upper[$0]) / 2 } }
        let spreadAxis = (0..<3).max { a, b in
            spread(centres.map { $0[a] }) * blockMM[a] < spread(centres.map { $0[b] }) * blockMM[b]
        }!
        var order = Array(boxes.indices)
        order.sort { centres[$0][spreadAxis] < centres[$1][spreadAxis] }
        boxes = order.map { boxes[$0] }
        let components = order.map { chosen[$0] }

        let biggest = components.indices.max { sizes[components[$0]] < sizes[components[$1]] }!
        let length = (0..<3).map { Double(boxes[biggest].size($0)) * blockMM[$0] }.max()!
        let animals = zip(boxes, components).map { box, component in
            Animal(box: grid.inputBox(box, marginVoxels: (0..<3).map { Int((marginMM / spacing[$0]).rounded(.up)) }),
                   bodyMM3: Double(sizes[component]) * blockMM3,
                   mirrorSymmetry: (0..<3).map { grid.mirrorSymmetry(of: Int32(component + 1), in: labels, axis: $0) },
                   cutByFieldOfView: (0..<3).map { box.lower[$0] == 0 || box.upper[$0] == grid.size[$0] })
        }
        var ownership: VoxelOwnership?
        if animals.count > 1 {
            var owner = [Int8](repeating: -1, count: labels.count)
            for (animal, component) in components.enumerated() {
                for i in labels.indices where labels[i] == Int32(component + 1) { owner[i] = Int8(animal) }
            }
            ownership = VoxelOwnership(grid: grid, owner: owner)
        }
        return Outcome(animals: animals, ownership: ownership, bodyLengthMM: length,
                       suggestedVoxelSizeFactor: plausibleLengthMM.contains(length) ? nil : unitFactor(length))
    }

    static let mergeGapMM = 15.0

    /// Relabels components that are parts of one body (see step 3) as one.
    private static func mergeAlongBodies(labels: inout [Int32], sizes: inout [Int], grid: CoarseGrid, blockMM: [Double]) {
        guard sizes.count > 1 else { return }
        var boxes = sizes.indices.map { grid.boundingBox(of: Int32($0 + 1), in: labels) }
        var parent = Array(sizes.indices)
        func root(_ i: Int) -> Int { var i = i; while parent[i] != i { i = parent[i] }; return i }
        var merged = true
        while merged {
            merged = false
            for a in sizes.indices where root(a) == a && sizes[a] > 0 {
                for b in sizes.indices where b != a && root(b) == b && sizes[b] > 0 {
                    let big = sizes[a] >= sizes[b] ? a : b
                    let longAxis = (0..<3).max { Double(boxes[big].size($0)) * blockMM[$0] < Double(boxes[big].size($1)) * blockMM[$1] }!
                    let gaps = (0..<3).map { axis -> Double in
                        let gap = max(boxes[a].lower[axis], boxes[b].lower[axis]) - min(boxes[a].upper[axis], boxes[b].upper[axis])
                        return Double(max(0, gap)) * blockMM[axis]
                    }
                    let across = (0..<3).filter { $0 != longAxis }.allSatisfy { gaps[$0] == 0 }
                    guard across, gaps[longAxis] <= mergeGapMM else { continue }
                    let (keep, gone) = (big, big == a ? b : a)
                    parent[gone] = keep
                    sizes[keep] += sizes[gone]
                    sizes[gone] = 0
                    boxes[keep] = VoxelBox(lower: (0..<3).map { min(boxes[keep].lower[$0], boxes[gone].lower[$0]) },
                                           upper: (0..<3).map { max(boxes[keep].upper[$0], boxes[gone].upper[$0]) })
                    merged = true
                }
            }
        }
        for i in labels.indices where labels[i] > 0 { labels[i] = Int32(root(Int(labels[i]) - 1) + 1) }
    }

    private static func spread(_ values: [Double]) -> Double { (values.max() ?? 0) - (values.min() ?? 0) }

    /// The power of ten (1e-6 ... 1e6) that brings `length` closest to a typical mouse (50 mm).
    static func unitFactor(_ length: Double) -> Double? {
        guard length > 0, length.isFinite else { return nil }
        let factor = (-6...6).map { pow10($0) }.min { abs(log10(length * $0 / 50)) < abs(log10(length * $1 / 50)) }!
        return factor == 1 ? nil : factor
    }

    private static func pow10(_ k: Int) -> Double { pow(10, Double(k)) }
}

/// Which animal owns each coarse block of the scan, read per input voxel.
package struct VoxelOwnership {
    let grid: CoarseGrid
    let owner: [Int8]

    /// The owning animal of input voxel `index`, or -1 when no animal's body covers it.
    @inline(__always)
    package func owner(ofVoxel index: Int) -> Int {
        let x = index % grid.dims[0], y = (index / grid.dims[0]) % grid.dims[1], z = index / (grid.dims[0] * grid.dims[1])
        return Int(owner[grid.block(ofVoxel: x, y, z)])
    }
}
