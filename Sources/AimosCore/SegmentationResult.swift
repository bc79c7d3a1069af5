#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one segmentation, in the input volume's layout (x fastest): labels, the
/// optional per-class probabilities, the optional uncertainty heatmap and the organ volumes.
/// Owns its buffers (plain malloc, so the C ABI can hand out stable pointers).
public final class SegmentationResult {
    public let dims: [Int]
    public let spacing: [Double]
    public let classCount: Int
    public let voxelCount: Int
    public let labels: UnsafeMutablePointer<UInt8>
    public let probabilities: [UnsafeMutablePointer<Float>]   // one per class, or empty
    public let uncertainty: UnsafeMutablePointer<Float>?
    public private(set) var voxelsPerClass: [Int]

    init(dims: [Int], spacing: [Double], classCount: Int, keepProbabilities: Bool, uncertainty: Bool) throws {
        let count = dims.reduce(1, *)
        self.dims = dims
        self.spacing = spacing
        self.classCount = classCount
        self.voxelCount = count
        var taken: [UnsafeMutableRawPointer] = []
        do {
            labels = try RawBuffer.allocate(UInt8.self, count: count, zeroed: true, what: "the label map")
            taken.append(UnsafeMutableRawPointer(labels))
            var maps: [UnsafeMutablePointer<Float>] = []
            if keepProbabilities {
                for c in 0..<classCount {
                    let p = try RawBuffer.allocate(Float.self, count: count, zeroed: true, what: "probability map \(c)")
                    taken.append(UnsafeMutableRawPointer(p))
                    maps.append(p)
                }
            }
            probabilities = maps
            if uncertainty {
                let p = try RawBuffer.allocate(Float.self, count: count, zeroed: true, what: "the uncertainty map")
                taken.append(UnsafeMutableRawPointer(p))
                self.uncertainty = p
            } else {
                self.uncertainty = nil
            }
        } catch {
            taken.forEach { free($0) }
            throw error
        }
        voxelsPerClass = [Int](repeating: 0, count: classCount)
    }

    deinit {
        free(labels)
        probabilities.forEach { free($0) }
        if let u = uncertainty { free(u) }
    }

    /// Counts the voxels of every class (after all slices are written).
    func countLabels() {
        var counts = [Int](repeating: 0, count: 256)
        for i in 0..<voxelCount { counts[Int(labels[i])] += 1 }
        voxelsPerClass = Array(counts[0..<classCount])
    }

    public var voxelVolumeMM3: Double { spacing[0] * spacing[1] * spacing[2] }

    /// Voxels of the class times the voxel volume.
    public func volumeMM3(classIndex: Int) -> Double {
        Double(voxelsPerClass[classIndex]) * voxelVolumeMM3
    }
}
