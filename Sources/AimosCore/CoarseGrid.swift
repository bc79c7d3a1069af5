#if canImport(Glibc)
import Glibc
#endif

/// A scan averaged over blocks of voxels (BodyFinder's working grid), with the few
/// morphological operations the body search needs: threshold, opening, components.
struct CoarseGrid {
    /// Input dims, block size per axis, coarse dims.
    let dims: [Int]
    let factor: [Int]
    let size: [Int]
    /// Voxels by which the first block starts before the volume (half the overhang).
    let offset: [Int]
    /// Block means, x fastest.
    let values: [Float]
    /// Per block, whether it holds nothing but padding: the volume's lowest value, or the value
    /// of five or more of its eight corners, when 1 % or more of the voxels hold exactly it
    /// (outside a CT reconstruction circle, say). Padding voxels never count in a block's mean.
    let padded: [Bool]

    init(volume: VoxelVolume, spacing: [Double]) throws {
        dims = volume.dims
        let factor = (0..<3).map { a in
            // About 1 mm blocks, but at least 32 of them (a wrong voxel size must not leave one
            // block) and at most maxCoarseDimension; then the nearest size whose blocks overhang
            // the volume by an even number of voxels, so they can overhang both ends alike.
            let wanted = max(1, min(Int((1.0 / spacing[a]).rounded(.down)), (volume.dims[a] + 31) / 32),
                             (volume.dims[a] + BodyFinder.maxCoarseDimension - 1) / BodyFinder.maxCoarseDimension)
            return CoarseGrid.evenOverhang(near: wanted, dimension: volume.dims[a])
        }
        let size = (0..<3).map { (volume.dims[$0] + factor[$0] - 1) / factor[$0] }
        // Centred blocks: a scan and its mirror image meet the same blocks, mirrored.
        let offset = (0..<3).map { (size[$0] * factor[$0] - volume.dims[$0]) / 2 }
        self.offset = offset
        self.factor = factor
        self.size = size
        // Every array of the body search is one of these per block (at most 160^3 blocks):
        // sums, counts, means, padding flags, component labels, owners and the opening's lines.
        try MemoryReserve.check(bytes: size[0] * size[1] * size[2] * 48, for: "the body search's coarse grid")
        var sums = [Double](repeating: 0, count: size[0] * size[1] * size[2])
        var counts = [Int32](repeating: 0, count: sums.count)
        // Padding outside a reconstruction circle holds one constant; scanners write the lowest
        // value (-1024, -3024) or 0 HU, which is brighter than air: so also the value held by
        // most of the volume's corners (outside any circle), when as frequent.
        let d = volume.dims
        let cornerValues = (0..<8).map { c in
            volume.value(at: ((c & 4 == 0 ? 0 : d[2] - 1) * d[1] + (c & 2 == 0 ? 0 : d[1] - 1)) * d[0] + (c & 1 == 0 ? 0 : d[0] - 1))
        }
        let corner = cornerValues.first { v in cornerValues.filter { $0 == v }.count >= 5 }
        var (lowest, atLowest, atCorner) = (Float.infinity, 0, 0)
        for i in 0..<volume.voxelCount {
            let v = volume.value(at: i)
            if v < lowest { (lowest, atLowest) = (v, 1) } else if v == lowest { atLowest += 1 }
            if v == corner { atCorner += 1 }
        }
        let isPadding = { (held: Int) in held * 100 >= volume.voxelCount && held < volume.voxelCount }
        let padding: Float? = isPadding(atLowest) ? lowest : nil
        let cornerPadding: Float? = isPadding(atCorner) ? corner : nil
        let (nx, ny, nz) = (dims[0], dims[1], dims[2])
        for z in 0..<nz {
            for y in 0..<ny {
                let rowBase = ((z + offset[2]) / factor[2] * size[1] + (y + offset[1]) / factor[1]) * size[0]
                let voxelBase = (z * ny + y) * nx
                for x in 0..<nx {
                    let b = rowBase + (x + offset[0]) / factor[0]
                    let v = volume.value(at: voxelBase + x)
                    if v == padding || v == cornerPadding { continue }
                    sums[b] += Double(v)
                    counts[b] += 1
                }
            }
        }
        values = (0..<sums.count).map { Float(sums[$0] / Double(max(1, counts[$0]))) }
        padded = counts.map { $0 == 0 }
    }

    var count: Int { values.count }

    /// The block size nearest `wanted` (trying wanted, wanted - 1, wanted + 1, ...) whose blocks
    /// overhang `dimension` voxels by an even number.
    static func evenOverhang(near wanted: Int, dimension: Int) -> Int {
        for step in 0..<(2 * dimension) {
            let f = wanted + (step % 2 == 0 ? step / 2 : -(step + 1) / 2)
            guard f >= 1 else { continue }
            if ((dimension + f - 1) / f * f - dimension) % 2 == 0 { return f }
        }
        return 1
    }

    /// The block holding input voxel (x, y, z).
    @inline(__always)
    func block(ofVoxel x: Int, _ y: Int, _ z: Int) -> Int {
        blockIndex((x + offset[0]) / factor[0], (y + offset[1]) / factor[1], (z + offset[2]) / factor[2])
    }

    @inline(__always)
    func blockIndex(_ x: Int, _ y: Int, _ z: Int) -> Int { (z * size[1] + y) * size[0] + x }

    /// 1 where a block is above Otsu's threshold, found on log(1 + value - floor) (floor: the
    /// 0.5th percentile), so that a light-sheet body's long bright tail of organs does not pull
    /// the threshold above dim tissue; padded blocks are left out and never foreground.
    func foreground() -> [UInt8] {
        let kept = values.indices.filter { !padded[$0] }.map { values[$0] }.sorted()
        guard kept.count > 1 else { return [UInt8](repeating: 0, count: count) }
        let floor = Double(kept[kept.count / 200])
        let transform = { (v: Float) -> Double in log(1 + max(0, Double(v) - floor)) }
        let top = transform(kept.last!)
        guard top > 0 else { return [UInt8](repeating: 0, count: count) }
        let bins = 256
        var histogram = [Double](repeating: 0, count: bins)
        for v in kept { histogram[min(bins - 1, Int(transform(v) / top * Double(bins - 1)))] += 1 }
        let total = histogram.reduce(0, +)
        let weightedTotal = histogram.indices.reduce(0.0) { $0 + Double($1) * histogram[$1] }
        var (below, weightedBelow, bestBin, bestVariance) = (0.0, 0.0, 0, -1.0)
        for bin in 0..<(bins - 1) {
            below += histogram[bin]
            weightedBelow += Double(bin) * histogram[bin]
            let above = total - below
            guard below > 0, above > 0 else { continue }
            let difference = weightedBelow / below - (weightedTotal - weightedBelow) / above
            let variance = below * above * difference * difference
            if variance > bestVariance { (bestVariance, bestBin) = (variance, bin) }
        }
        let threshold = Double(bestBin + 1) / Double(bins - 1) * top
        return values.indices.map { !padded[$0] && transform(values[$0]) >= threshold ? 1 : 0 }
    }

    /// Erosion then dilation with a box of half-widths `radius` (separable min and max filters).
    func open(_ mask: [UInt8], radius: [Int]) -> [UInt8] {
        var m = mask
        for axis in 0..<3 { m = filter(m, axis: axis, radius: radius[axis], erode: true) }
        for axis in 0..<3 { m = filter(m, axis: axis, radius: radius[axis], erode: false) }
        return m
    }

    private func filter(_ mask: [UInt8], axis: Int, radius: Int, erode: Bool) -> [UInt8] {
        let stride = axis == 0 ? 1 : axis == 1 ? size[0] : size[0] * size[1]
        let n = size[axis]
        var out = mask
        // Outside the grid counts as background for erosion (a body cut by the field of view
        // still erodes from the cut), and as nothing for dilation.
        for start in 0..<count where (start / stride) % n == 0 {
            var line = [UInt8](repeating: 0, count: n)
            for i in 0..<n { line[i] = mask[start + i * stride] }
            var prefix = [Int](repeating: 0, count: n + 1)     // running count of ones
            for i in 0..<n { prefix[i + 1] = prefix[i] + Int(line[i]) }
            for i in 0..<n {
                let lo = i - radius, hi = i + radius
                let ones = prefix[min(n, hi + 1)] - prefix[max(0, lo)]
                let value: Bool = erode ? (lo >= 0 && hi < n && ones == hi - lo + 1) : ones > 0
                out[start + i * stride] = value ? 1 : 0
            }
        }
        return out
    }

    /// 6-connected components of a mask: a label per block (0 none, k for component k-1) and
    /// each component's block count.
    func components(_ mask: [UInt8]) -> ([Int32], [Int]) {
        var labels = [Int32](repeating: 0, count: count)
        var sizes: [Int] = []
        var stack: [Int] = []
        let plane = size[0] * size[1]
        for seed in 0..<count where mask[seed] == 1 && labels[seed] == 0 {
            sizes.append(0)
            let label = Int32(sizes.count)
            labels[seed] = label
            stack.append(seed)
            while let i = stack.popLast() {
                sizes[sizes.count - 1] += 1
                let x = i % size[0], y = (i / size[0]) % size[1], z = i / plane
                for (ok, j) in [(x > 0, i - 1), (x < size[0] - 1, i + 1), (y > 0, i - size[0]), (y < size[1] - 1, i + size[0]),
                                (z > 0, i - plane), (z < size[2] - 1, i + plane)] where ok && mask[j] == 1 && labels[j] == 0 {
                    labels[j] = label
                    stack.append(j)
                }
            }
        }
        return (labels, sizes)
    }

    /// The bounding box, in blocks, of the blocks labelled `label`.
    func boundingBox(of label: Int32, in labels: [Int32]) -> VoxelBox {
        var lower = size, upper = [0, 0, 0]
        for i in labels.indices where labels[i] == label {
            let p = [i % size[0], (i / size[0]) % size[1], i / (size[0] * size[1])]
            for a in 0..<3 { lower[a] = min(lower[a], p[a]); upper[a] = max(upper[a], p[a] + 1) }
        }
        return VoxelBox(lower: lower, upper: upper)
    }

    /// The correlation between the values of the blocks labelled `label` and the values at their
    /// mirror positions across the component's centre along `axis` (0 when undefined).
    func mirrorSymmetry(of label: Int32, in labels: [Int32], axis: Int) -> Double {
        var centre = 0.0, n = 0.0
        for i in labels.indices where labels[i] == label {
            centre += Double([i % size[0], (i / size[0]) % size[1], i / (size[0] * size[1])][axis])
            n += 1
        }
        guard n > 1 else { return 0 }
        centre /= n
        var (sa, sb, saa, sbb, sab, m) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        for i in labels.indices where labels[i] == label {
            var p = [i % size[0], (i / size[0]) % size[1], i / (size[0] * size[1])]
            // The mirror position, linearly interpolated (rounding would favour one side).
            let mirrored = 2 * centre - Double(p[axis])
            let below = Int(mirrored.rounded(.down)), t = mirrored - Double(below)
            guard below >= 0, below + (t > 0 ? 1 : 0) < size[axis] else { continue }
            p[axis] = below
            var b = Double(values[blockIndex(p[0], p[1], p[2])]) * (1 - t)
            if t > 0 {
                p[axis] = below + 1
                b += Double(values[blockIndex(p[0], p[1], p[2])]) * t
            }
            let a = Double(values[i])
            (sa, sb, saa, sbb, sab, m) = (sa + a, sb + b, saa + a * a, sbb + b * b, sab + a * b, m + 1)
        }
        guard m > 1 else { return 0 }
        let covariance = sab / m - sa / m * sb / m
        let variance = (saa / m - sa / m * sa / m) * (sbb / m - sb / m * sb / m)
        return variance > 0 ? covariance / variance.squareRoot() : 0
    }

    /// A block box as input voxels, widened by a margin and clipped to the volume.
    func inputBox(_ blocks: VoxelBox, marginVoxels: [Int]) -> VoxelBox {
        VoxelBox(lower: (0..<3).map { max(0, blocks.lower[$0] * factor[$0] - offset[$0] - marginVoxels[$0]) },
                 upper: (0..<3).map { min(dims[$0], blocks.upper[$0] * factor[$0] - offset[$0] + marginVoxels[$0]) })
    }
}
