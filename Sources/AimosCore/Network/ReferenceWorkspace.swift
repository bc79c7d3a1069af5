/// The reference backend's scratch memory for one forward pass of one U-Net at one input size: one per worker thread,
/// reused for every slice, so the forward pass allocates nothing.
final class ReferenceWorkspace: NetworkWorkspace {
    let levelSizes: [Int]                        // height (= width) at each level, then the centre
    let concat: [UnsafeMutablePointer<Float>]    // per level: [upsampled | skip], 2 * width channels
    let bufferA: UnsafeMutablePointer<Float>
    let bufferB: UnsafeMutablePointer<Float>
    let columns: UnsafeMutablePointer<Float>
    let columnCapacity: Int
    private let arena: BufferArena
    var bytes: Int { arena.bytes }
    var parts: Int { 1 }

    /// Keeps the im2col band of one layer near this size (floats) unless one row needs more.
    static let preferredColumnFloats = 1 << 21

    init(architecture: UNetArchitecture, inputSize: Int) throws {
        let sizes = architecture.levelSizes(inputSize: inputSize)
        levelSizes = sizes
        let widths = architecture.encoderWidths
        var largest = 0, columnNeed = 0
        for level in 0...architecture.levels {
            let pixels = sizes[level] * sizes[level]
            let blocks = level < architecture.levels
                ? architecture.encoderBlocks(level: level) + architecture.decoderBlocks(level: level)
                : [architecture.centerBlock]
            for block in blocks {
                largest = max(largest, block.outChannels * pixels, block.inChannels * pixels)
                let k = block.inChannels * 9
                columnNeed = max(columnNeed, min(k * pixels, max(k * sizes[level], ReferenceWorkspace.preferredColumnFloats)))
            }
        }
        columnCapacity = columnNeed
        let arena = BufferArena()
        concat = try (0..<architecture.levels).map {
            try arena.floats(2 * widths[$0] * sizes[$0] * sizes[$0], "a U-Net skip buffer")
        }
        bufferA = try arena.floats(largest, "a U-Net activation buffer")
        bufferB = try arena.floats(largest, "a U-Net activation buffer")
        columns = try arena.floats(columnCapacity, "the convolution column buffer")
        self.arena = arena
    }
}
