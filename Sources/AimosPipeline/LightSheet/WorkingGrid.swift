import AimosCore

/// The grid a light-sheet stack is segmented on: the stack's voxels averaged in blocks of
/// whole voxels (factors per axis, at least 1: never finer than the stack), so that its voxel
/// size comes as near the wanted one as whole blocks allow. Working voxel j along an axis
/// covers stack voxels j*k ..< min((j+1)*k, n), the last block possibly partial.
package struct WorkingGrid: Equatable {
    package let nativeDims: [Int]
    package let nativeSpacing: [Double]
    package let factors: [Int]

    /// The working voxel size when neither the model nor --working-voxel-size gives one (mm).
    package static let fallbackVoxelSizeMM = 0.1

    package init(nativeDims: [Int], nativeSpacing: [Double], target: [Double]) {
        self.nativeDims = nativeDims
        self.nativeSpacing = nativeSpacing
        // A ratio a hair below .5 from rounding (0.3 / 0.2 = 1.4999999999999998) rounds up as
        // written; a factor beyond the stack's extent is the extent.
        // Clamped while still a Double: a hostile voxel size (1e-300 mm) makes the ratio too
        // large, or infinite, for an Int.
        factors = (0..<3).map { a in
            let ratio = (target[a] / nativeSpacing[a] * (1 + 1e-9)).rounded()
            return ratio.isFinite && ratio < Double(nativeDims[a]) ? max(1, Int(ratio)) : nativeDims[a]
        }
    }

    package var dims: [Int] { (0..<3).map { (nativeDims[$0] + factors[$0] - 1) / factors[$0] } }
    package var spacing: [Double] { (0..<3).map { Double(factors[$0]) * nativeSpacing[$0] } }
    package var isIdentity: Bool { factors == [1, 1, 1] }

    /// The voxel-to-world matrix (mm, 4 x 4 row-major) of the working grid in the stack's frame
    /// (stack voxel i at i * voxel size): a working voxel sits at the centre of its full block.
    package var affine: [Double] {
        var m = [Double](repeating: 0, count: 16)
        for a in 0..<3 {
            m[5 * a] = spacing[a]
            m[4 * a + 3] = Double(factors[a] - 1) / 2 * nativeSpacing[a]
        }
        m[15] = 1
        return m
    }

    /// The stack voxels a working voxel along `axis` averages.
    func blockLength(_ j: Int, axis: Int) -> Int { min(factors[axis], nativeDims[axis] - j * factors[axis]) }
}
