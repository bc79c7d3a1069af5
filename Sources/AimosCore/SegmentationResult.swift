/// The outcome of one segmentation, in the input volume's layout (x fastest): labels, the
/// optional per-class probabilities, the optional uncertainty heatmap and the organ volumes.
/// Owns its buffers (a BufferArena, so the C ABI can hand out stable pointers).
package final class SegmentationResult {
    package let dims: [Int]
    package let spacing: [Double]
    /// How each animal was cut (one entry per animal; the whole volume without cropping).
    package internal(set) var layouts: [AnimalLayout] = []
    /// The volume axis the (first) animal was cut along.
    package var sliceAxis: Int { layouts.first?.geometry.axis ?? 2 }
    /// The body's length in mm when it was looked for (crop or auto), and the factor by which
    /// the voxel size would have to be multiplied to make it a mouse's (nil: plausible).
    package internal(set) var bodyLengthMM: Double?
    package internal(set) var suggestedVoxelSizeFactor: Double?
    /// Which animal's body covers each voxel, with several animals.
    var ownership: VoxelOwnership?

    package var animalCount: Int { max(1, layouts.count) }

    /// The animal (0-based) whose crop holds voxel `index` (where crops overlap, the one whose
    /// body covers it); nil outside every crop.
    package func animal(ofVoxel index: Int) -> Int? {
        if layouts.count <= 1 { return 0 }
        let x = index % dims[0], y = (index / dims[0]) % dims[1], z = index / (dims[0] * dims[1])
        let owner = ownership?.owner(ofVoxel: index) ?? -1
        if owner >= 0 { return owner }
        return layouts.lastIndex { $0.box.contains(x: x, y: y, z: z) }   // the last written
    }
    package let classCount: Int
    package let voxelCount: Int
    package let labels: UnsafeMutablePointer<UInt8>
    package let probabilities: [UnsafeMutablePointer<Float>]   // one per class, or empty
    package let uncertainty: UnsafeMutablePointer<Float>?
    package private(set) var voxelsPerClass: [Int]
    private let arena: BufferArena

    init(dims: [Int], spacing: [Double], classCount: Int, keepProbabilities: Bool, uncertainty: Bool) throws {
        let count = dims.reduce(1, *)
        self.dims = dims
        self.spacing = spacing
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

    /// Outside every animal's box a voxel is background: label 0 (already) and, when
    /// probabilities are kept, background probability 1.
    func markOutsideBoxesBackground() {
        guard let background = probabilities.first else { return }
        let (nx, ny) = (dims[0], dims[1])
        for z in 0..<dims[2] {
            for y in 0..<ny {
                for x in 0..<nx where !layouts.contains(where: { $0.box.contains(x: x, y: y, z: z) }) {
                    background[(z * ny + y) * nx + x] = 1
                }
            }
        }
    }

    /// Counts the voxels of every class (after all slices are written).
    func countLabels() {
        var counts = [Int](repeating: 0, count: 256)
        for i in 0..<voxelCount { counts[Int(labels[i])] += 1 }
        voxelsPerClass = Array(counts[0..<classCount])
    }

    package var voxelVolumeMM3: Double { spacing[0] * spacing[1] * spacing[2] }

    /// Voxels of the class times the voxel volume.
    package func volumeMM3(classIndex: Int) -> Double {
        Double(voxelsPerClass[classIndex]) * voxelVolumeMM3
    }
}
