import CAimosKernels

/// The own-kernel backend's scratch for one caller: activation buffers in the kernels' layout
/// (blocks of 16 channels, each a padded (S + 2) x (S + 2) plane), the Winograd scratch of
/// every part, and the thread team that splits each slice. Made once per worker, reused for
/// every slice, so the forward pass allocates nothing.
final class KernelWorkspace: NetworkWorkspace {
    let levelSizes: [Int]
    let paddedInput: UnsafeMutablePointer<Float>      // one channel, (S + 2)^2, zero border
    let concat: [UnsafeMutablePointer<Float>]         // per level: [upsampled | skip] blocks
    let bufferA: UnsafeMutablePointer<Float>
    let bufferB: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>          // parts x the largest Winograd scratch
    let team: ThreadTeam
    private let arena: BufferArena
    var bytes: Int { arena.bytes }

    /// Floats of `channels` channels at side `size` in the kernels' layout.
    static func floats(channels: Int, size: Int) -> Int { channels * (size + 2) * (size + 2) }

    init(architecture: UNetArchitecture, inputSize: Int, scratchFloats: Int, threads: Int) throws {
        let sizes = architecture.levelSizes(inputSize: inputSize)
        levelSizes = sizes
        let widths = architecture.encoderWidths
        var largest = Self.floats(channels: widths.last!, size: sizes[architecture.levels])
        for level in 0..<architecture.levels {
            let widest = max(widths[level], architecture.decoderOutputWidth(level: level))
            largest = max(largest, Self.floats(channels: widest, size: sizes[level]))
        }
        let team = ThreadTeam(size: max(1, threads))
        let arena = BufferArena()
        paddedInput = try arena.allocate(Float.self, count: (inputSize + 2) * (inputSize + 2), zeroed: true,
                                         what: "the padded model input")
        concat = try (0..<architecture.levels).map {
            try arena.floats(Self.floats(channels: 2 * widths[$0], size: sizes[$0]), "a U-Net skip buffer")
        }
        bufferA = try arena.floats(largest, "a U-Net activation buffer")
        bufferB = try arena.floats(largest, "a U-Net activation buffer")
        scratch = try arena.floats(max(1, team.size * scratchFloats), "the Winograd scratch")
        self.team = team
        self.arena = arena
    }

    /// The skip half of level `level`'s concatenation buffer (after the upsampled blocks).
    func skip(level: Int, widths: [Int]) -> UnsafeMutablePointer<Float> {
        concat[level] + Self.floats(channels: widths[level], size: levelSizes[level])
    }
}
