/// The AIMOS paper's segmentation metrics of one organ (Methods, "Evaluation"), as
/// Tools/aimostools/evaluation/metrics.py computes them:
/// - Dice = (2 TP + eps) / (2 TP + FP + FN + eps), eps = 1e-5 (both empty: 1; one empty: ~0);
/// - HD50 and HD95 in mm: the p-th percentile (linear interpolation, as numpy) of the distances
///   from each surface voxel of one mask to the nearest surface voxel of the other, taken both
///   ways, the larger of the two (symmetric); surface = voxels with a face neighbour outside the
///   mask (outside the grid counts as outside); distances exact Euclidean with the voxel size;
/// - centre-of-mass displacement in mm (index centres times the voxel size);
/// - both volumes in mm3 and the signed relative volume error in %.
/// Distances, displacement and volume error are NaN where a mask (for the error: the
/// reference) is empty.
package struct OrganMetrics: Equatable {
    package var dice: Double
    package var hd50MM: Double
    package var hd95MM: Double
    package var centerOfMassMM: Double
    package var referenceMM3: Double
    package var predictionMM3: Double
    package var volumeErrorPercent: Double

    package static let diceEpsilon = 1e-5

    /// The paper's Dice from the voxel counts.
    package static func dice(truePositives tp: Int, falsePositives fp: Int, falseNegatives fn: Int) -> Double {
        (2 * Double(tp) + diceEpsilon) / (2 * Double(tp) + Double(fp) + Double(fn) + diceEpsilon)
    }

    /// Metrics of the masks `prediction(i)` and `reference(i)` over a grid of `dims` voxels
    /// (x fastest) with voxel size `spacing` (mm).
    package static func compare(dims: [Int], spacing: [Double], prediction: (Int) -> Bool, reference: (Int) -> Bool) -> OrganMetrics {
        var tp = 0, fp = 0, fn = 0
        var comP = SIMD3<Double>(), comR = SIMD3<Double>()
        var lowest = SIMD3(dims[0], dims[1], dims[2]), highest = SIMD3(-1, -1, -1)
        for z in 0..<dims[2] {
            for y in 0..<dims[1] {
                let row = (z * dims[1] + y) * dims[0]
                for x in 0..<dims[0] {
                    let p = prediction(row + x), r = reference(row + x)
                    guard p || r else { continue }
                    if p && r { tp += 1 } else if p { fp += 1 } else { fn += 1 }
                    let c = SIMD3(x, y, z)
                    if p { comP += SIMD3<Double>(c) }
                    if r { comR += SIMD3<Double>(c) }
                    lowest = pointwiseMin(lowest, c)
                    highest = pointwiseMax(highest, c)
                }
            }
        }
        let lower = [lowest.x, lowest.y, lowest.z], upper = [highest.x, highest.y, highest.z]
        let predicted = tp + fp, referenced = tp + fn
        let voxelMM3 = spacing.reduce(1, *)
        var m = OrganMetrics(dice: dice(truePositives: tp, falsePositives: fp, falseNegatives: fn),
                             hd50MM: .nan, hd95MM: .nan, centerOfMassMM: .nan,
                             referenceMM3: Double(referenced) * voxelMM3, predictionMM3: Double(predicted) * voxelMM3,
                             volumeErrorPercent: referenced == 0 ? .nan : 100 * Double(predicted - referenced) / Double(referenced))
        guard predicted > 0, referenced > 0 else { return m }
        var shift = 0.0
        for a in 0..<3 {
            let d = (comP[a] / Double(predicted) - comR[a] / Double(referenced)) * spacing[a]
            shift += d * d
        }
        m.centerOfMassMM = shift.squareRoot()
        // Surfaces and distances inside the box around both masks, one voxel wider: the nearest
        // surface voxel always lies inside it, and a face neighbour beyond the grid is outside.
        let lo = (0..<3).map { max(lower[$0] - 1, 0) }, hi = (0..<3).map { min(upper[$0] + 1, dims[$0] - 1) }
        let box = (0..<3).map { hi[$0] - lo[$0] + 1 }
        func boxMask(_ mask: (Int) -> Bool) -> [Bool] {
            var out = [Bool](repeating: false, count: box[0] * box[1] * box[2])
            for z in 0..<box[2] {
                for y in 0..<box[1] {
                    let row = ((z + lo[2]) * dims[1] + y + lo[1]) * dims[0] + lo[0]
                    for x in 0..<box[0] { out[(z * box[1] + y) * box[0] + x] = mask(row + x) }
                }
            }
            return out
        }
        func surface(_ mask: [Bool]) -> [Bool] {
            var out = [Bool](repeating: false, count: mask.count)
            for z in 0..<box[2] {
                for y in 0..<box[1] {
                    for x in 0..<box[0] {
                        let i = (z * box[1] + y) * box[0] + x
                        guard mask[i] else { continue }
                        // A neighbour outside the whole grid counts as outside the mask.
                        let gx = x + lo[0], gy = y + lo[1], gz = z + lo[2]
                        let atGridEdge = gx == 0 || gy == 0 || gz == 0 || gx == dims[0] - 1 || gy == dims[1] - 1 || gz == dims[2] - 1
                        if atGridEdge { out[i] = true; continue }
                        // Inside the grid but at the box's edge: the box is one voxel wider
                        // than both masks there, so that neighbour is outside the mask too.
                        let atBoxEdge = x == 0 || y == 0 || z == 0 || x == box[0] - 1 || y == box[1] - 1 || z == box[2] - 1
                        if atBoxEdge { out[i] = true; continue }
                        let plane = box[0] * box[1]
                        out[i] = !(mask[i - 1] && mask[i + 1] && mask[i - box[0]] && mask[i + box[0]]
                                   && mask[i - plane] && mask[i + plane])
                    }
                }
            }
            return out
        }
        let pSurface = surface(boxMask(prediction)), rSurface = surface(boxMask(reference))
        let toR = EuclideanDistanceTransform.squaredDistances(target: rSurface, dims: box, spacing: spacing)
        let toP = EuclideanDistanceTransform.squaredDistances(target: pSurface, dims: box, spacing: spacing)
        let fromP = (0..<pSurface.count).filter { pSurface[$0] }.map { toR[$0].squareRoot() }
        let fromR = (0..<rSurface.count).filter { rSurface[$0] }.map { toP[$0].squareRoot() }
        m.hd50MM = max(percentile(fromP, 50), percentile(fromR, 50))
        m.hd95MM = max(percentile(fromP, 95), percentile(fromR, 95))
        return m
    }

    /// numpy.percentile's default (linear interpolation between the closest ranks).
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let below = Int(rank.rounded(.down)), above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - Double(below))
    }
}
