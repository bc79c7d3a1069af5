/// Exact Euclidean distance transform on an anisotropic grid (Felzenszwalb & Huttenlocher,
/// "Distance transforms of sampled functions", 2012): the squared distance to the nearest
/// target voxel is the lower envelope of parabolas, computed one axis at a time with that
/// axis's voxel size, so the result is exact (not a chamfer approximation) and in mm.
enum EuclideanDistanceTransform {
    /// Squared distances in mm^2 from every voxel of a dims[0] x dims[1] x dims[2] grid (x fastest)
    /// to the nearest voxel where `target` is true; infinity everywhere when there is none.
    static func squaredDistances(target: [Bool], dims: [Int], spacing: [Double]) -> [Double] {
        var d = target.map { $0 ? 0.0 : Double.infinity }
        let strides = [1, dims[0], dims[0] * dims[1]]
        let longest = dims.max() ?? 0
        var line = [Double](repeating: 0, count: longest)
        var out = [Double](repeating: 0, count: longest)
        var vertices = [Int](repeating: 0, count: longest)
        var bounds = [Double](repeating: 0, count: longest + 1)
        for axis in 0..<3 {
            let n = dims[axis], stride = strides[axis], step = spacing[axis]
            let others = (0..<3).filter { $0 != axis }
            for b in 0..<dims[others[1]] {
                for a in 0..<dims[others[0]] {
                    let start = a * strides[others[0]] + b * strides[others[1]]
                    for i in 0..<n { line[i] = d[start + i * stride] }
                    envelope(line, count: n, step: step, out: &out, vertices: &vertices, bounds: &bounds)
                    for i in 0..<n { d[start + i * stride] = out[i] }
                }
            }
        }
        return d
    }

    /// One line: out[p] = min over q of f[q] + ((p - q) step)^2.
    private static func envelope(_ f: [Double], count n: Int, step: Double, out: inout [Double],
                                 vertices v: inout [Int], bounds z: inout [Double]) {
        var k = -1
        for q in 0..<n where f[q].isFinite {
            let position = Double(q) * step
            while k >= 0 {
                let p = Double(v[k]) * step
                let s = ((f[q] + position * position) - (f[v[k]] + p * p)) / (2 * (position - p))
                if s <= z[k] { k -= 1 } else {
                    k += 1
                    v[k] = q
                    z[k] = s
                    break
                }
            }
            if k < 0 {
                k = 0
                v[0] = q
                z[0] = -.infinity
            }
            z[k + 1] = .infinity
        }
        guard k >= 0 else {
            for p in 0..<n { out[p] = .infinity }
            return
        }
        var j = 0
        for p in 0..<n {
            let position = Double(p) * step
            while z[j + 1] < position { j += 1 }
            let offset = position - Double(v[j]) * step
            out[p] = offset * offset + f[v[j]]
        }
    }
}
