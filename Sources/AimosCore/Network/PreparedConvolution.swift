import CAimosKernels

/// One 3x3 convolution (BatchNorm folded, ReLU) with its weights rearranged once, at load time,
/// for the algorithm that suits its place in the network:
/// - single input: the first layer (one channel), direct; its 9 taps are too few for Winograd;
/// - Winograd F(4x4, 3x3) where the side is a multiple of 4 and at least
///   `winogradMinimumSize` (4 times fewer multiplications, 4 times the weight memory);
/// - direct elsewhere: the smallest levels, with few tiles and the largest weights.
struct PreparedConvolution {
    enum Algorithm { case singleInput, direct, winograd }

    let algorithm: Algorithm
    let inChannels: Int
    let outChannels: Int
    let size: Int
    let relu: Bool
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>

    /// The smallest side that Winograd runs at: at 8 x 8 a layer has four tiles, too few to pay
    /// for the transforms, and the deepest weights would take four times their memory.
    static let winogradMinimumSize = 16

    static func algorithm(inChannels: Int, size: Int) -> Algorithm {
        if inChannels == 1 { return .singleInput }
        return size % 4 == 0 && size >= winogradMinimumSize ? .winograd : .direct
    }

    init(_ layer: ConvLayer, size: Int, arena: BufferArena) throws {
        precondition(layer.kernelSize == 3)
        // Every AIMOS width is a multiple of 32: two blocks of 16 per register tile.
        guard layer.outChannels % 32 == 0, layer.inChannels == 1 || layer.inChannels % Int(AIMK_BLOCK) == 0 else {
            throw AimosError(.unsupported, "a \(layer.inChannels) -> \(layer.outChannels) channel convolution is not an AIMOS layer width")
        }
        algorithm = Self.algorithm(inChannels: layer.inChannels, size: size)
        inChannels = layer.inChannels
        outChannels = layer.outChannels
        self.size = size
        relu = layer.relu
        let count = algorithm == .winograd ? layer.weights.count * 4 : layer.weights.count
        weights = try arena.floats(count, "prepared convolution weights")
        bias = try arena.floats(outChannels, "a convolution bias")
        layer.bias.withUnsafeBufferPointer { bias.update(from: $0.baseAddress!, count: outChannels) }
        layer.weights.withUnsafeBufferPointer { w in
            switch algorithm {
            case .singleInput:   // [9][out]
                for o in 0..<outChannels { for tap in 0..<9 { weights[tap * outChannels + o] = w[o * 9 + tap] } }
            case .direct:
                aimk_pack_direct_3x3(w.baseAddress, Int32(inChannels), Int32(outChannels), weights)
            case .winograd:
                aimk_pack_winograd_3x3(w.baseAddress, Int32(inChannels), Int32(outChannels), weights)
            }
        }
    }

    /// Floats of scratch one part of this convolution needs.
    var scratchFloats: Int {
        algorithm == .winograd ? aimk_winograd_scratch_floats(Int32(inChannels), Int32(outChannels)) : 0
    }

    /// Runs the convolution from `input` into `output` (both in the kernels' padded,
    /// 16-channel-blocked layout), its work split over `team`; `scratch` holds team.size times
    /// scratchFloats.
    func run(_ k: aimk_kernels, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
             scratch: UnsafeMutablePointer<Float>, team: ThreadTeam) {
        let s = Int32(size), parts = Int32(team.size)
        let tiles = (size / 4) * (size / 4), tileBlock = Int(AIMK_WINOGRAD_TILE_BLOCK)
        let tileBlocks = (tiles + tileBlock - 1) / tileBlock
        switch algorithm {
        case .singleInput:
            team.run { k.conv3x3_single_input(input, output, Int32(outChannels), s, s, weights, bias, Int32($0), parts) }
        case .direct:
            team.run { k.conv3x3_direct(input, Int32(inChannels), output, Int32(outChannels), s, s, weights, bias,
                                        relu ? 1 : 0, Int32($0), parts) }
        case .winograd where team.size == 1 || tileBlocks >= 2 * team.size:
            // Whole tile blocks per part, each part with its own scratch.
            team.run { k.conv3x3_winograd(input, Int32(inChannels), output, Int32(outChannels), s, s, weights, bias,
                                          relu ? 1 : 0, scratch + $0 * scratchFloats, Int32($0), parts) }
        case .winograd:
            // Too few tile blocks to go round: every part on each block, phase by phase.
            for block in 0..<tileBlocks {
                for phase in 0..<3 {
                    team.run { k.conv3x3_winograd_phase(input, Int32(inChannels), output, Int32(outChannels), s, s, weights,
                                                        bias, relu ? 1 : 0, scratch, Int32(block), Int32(phase), Int32($0), parts) }
                }
            }
        }
    }
}
