/// The outcome of one segmentation, in the input volume's layout (x fastest): labels, the
/// optional per-class probabilities, the optional uncertainty heatmap and the organ volumes.
/// Owns its buffers (a BufferArena, so the C ABI can hand out stable pointers).
public final class SegmentationResult {
    public let dims: [Int]
    public let spacing: [Double]
    /// The volume axis the scan was cut along.
    public let sliceAxis: Int
    public let classCount: Int
    public let voxelCount: Int
    public let labels: UnsafeMutablePointer<UInt8>
    public let probabilities: [UnsafeMutablePointer<Float>]   // one per class, or empty
    public let uncertainty: UnsafeMutablePointer<Float>?
    public private(set) var voxelsPerClass: [Int]
    private let arena: BufferArena

    init(dims: [Int], spacing: [Double], sliceAxis: Int, classCount: Int, keepProbabilities: Bool, uncertainty: Bool) throws {
        let count = dims.reduce(1, *)
        self.dims = dims
        self.spacing = spacing
        self.sliceAxis = sliceAxis
        self.classCount = classCount
        self.voxelCount = count
        let arena = BufferArena()
        labels = try arena.allocate(UInt8.self, count: count, zeroed: true, what: "the label map")
        probabilities = try (keepProbabilities ? 0..<classCount : 0..<0).map {
            try arena.allocate(Float.self, count: count, zeroed: true, what: "probability map \($0)")
        }
        self.uncertainty = uncertainty
            ? try arena.allocate(Float.self, count: count, zeroed: true, what: "the uncertainty map") : nil
        self.arena = arena
        voxelsPerClass = [Int](repeating: 0, count: classCount)
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
