#if canImport(Glibc)
import Glibc
#endif

/// Scratch memory for one forward pass of one U-Net at one input size: one per worker thread,
/// reused for every slice, so the forward pass allocates nothing.
final class UNetWorkspace {
    let levelSizes: [Int]                        // height (= width) at each level, then the centre
    let concat: [UnsafeMutablePointer<Float>]    // per level: [upsampled | skip], 2 * width channels
    let bufferA: UnsafeMutablePointer<Float>
    let bufferB: UnsafeMutablePointer<Float>
    let columns: UnsafeMutablePointer<Float>
    let columnCapacity: Int
    private var owned: [UnsafeMutableRawPointer] = []
    /// Bytes allocated, to size the number of workers to the machine's memory.
    private(set) var bytes = 0

    /// Keeps the im2col band of one layer near this size (floats) unless one row needs more.
    static let preferredColumnFloats = 1 << 21

    init(architecture: UNetArchitecture, inputSize: Int) throws {
        var sizes = [inputSize]
        for _ in 0..<architecture.levels { sizes.append(sizes.last! / 2) }
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
                columnNeed = max(columnNeed, min(k * pixels, max(k * sizes[level], UNetWorkspace.preferredColumnFloats)))
            }
        }
        columnCapacity = columnNeed
        var allocated: [UnsafeMutableRawPointer] = []
        do {
            var total = 0
            func take(_ count: Int, _ what: String) throws -> UnsafeMutablePointer<Float> {
                let p = try RawBuffer.allocate(Float.self, count: count, what: what)
                allocated.append(UnsafeMutableRawPointer(p))
                total += count * MemoryLayout<Float>.stride
                return p
            }
            var concat: [UnsafeMutablePointer<Float>] = []
            for level in 0..<architecture.levels {
                concat.append(try take(2 * widths[level] * sizes[level] * sizes[level], "a U-Net skip buffer"))
            }
            self.concat = concat
            bufferA = try take(largest, "a U-Net activation buffer")
            bufferB = try take(largest, "a U-Net activation buffer")
            columns = try take(columnCapacity, "the convolution column buffer")
            bytes = total
        } catch {
            allocated.forEach { free($0) }
            throw error
        }
        owned = allocated
    }

    deinit { owned.forEach { free($0) } }
}
