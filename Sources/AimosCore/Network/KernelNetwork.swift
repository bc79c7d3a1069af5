import CAimosKernels

/// The own-kernel backend: one U-Net prepared for one kernel path (CAimosKernels), activations
/// in the kernels' layout (16-channel blocks of padded planes), so the skip concatenation is
/// two runs of blocks in one buffer and nothing is transposed between layers.
final class KernelNetwork: PreparedNetwork {
    let architecture: UNetArchitecture
    let inputSize: Int
    let kernelPath: CPUKernelPath
    let kernels: aimk_kernels
    let encoder: [[PreparedConvolution]]
    let center: PreparedConvolution
    let decoder: [[PreparedConvolution]]
    let classes: Int
    let classifierWeights: [Float]   // [classes][32]
    let classifierBias: [Float]
    private let arena: BufferArena
    let weightBytes: Int

    /// Reads, folds and prepares one layer at a time, so that a layer's plain weights are gone
    /// before the next is read (loading needs the file and the prepared weights, little more).
    init(architecture: UNetArchitecture, outputChannels: Int, inputSize: Int, path: CPUKernelPath,
         kernels: UnsafePointer<aimk_kernels>, tensor: UNet.TensorSource) throws {
        let sizes = architecture.levelSizes(inputSize: inputSize)
        let arena = BufferArena()
        func prepared(_ block: UNetArchitecture.ConvBlock, size: Int) throws -> PreparedConvolution {
            try PreparedConvolution(UNet.foldedBlock(block, tensor), size: size, arena: arena)
        }
        self.architecture = architecture
        self.inputSize = inputSize
        kernelPath = path
        self.kernels = kernels.pointee
        encoder = try (0..<architecture.levels).map { level in
            try architecture.encoderBlocks(level: level).map { try prepared($0, size: sizes[level]) }
        }
        center = try prepared(architecture.centerBlock, size: sizes[architecture.levels])
        decoder = try (0..<architecture.levels).map { level in
            try architecture.decoderBlocks(level: level).map { try prepared($0, size: sizes[level]) }
        }
        let classifier = try UNet.classifier(outputChannels: outputChannels, tensor)
        classes = outputChannels
        classifierWeights = classifier.weights
        classifierBias = classifier.bias
        self.arena = arena
        weightBytes = arena.bytes + 4 * (classifierWeights.count + classifierBias.count)
    }

    var convolutions: [PreparedConvolution] { encoder.flatMap { $0 } + [center] + decoder.flatMap { $0 } }

    func makeWorkspace(threads: Int) throws -> NetworkWorkspace {
        try KernelWorkspace(architecture: architecture, inputSize: inputSize,
                            scratchFloats: convolutions.map(\.scratchFloats).max() ?? 0, threads: threads)
    }

    func forward(input: UnsafePointer<Float>, batch: Int, output: UnsafeMutablePointer<Float>,
                 sigmoid: Bool, workspace: NetworkWorkspace) {
        let ws = workspace as! KernelWorkspace
        let grid = inputSize * inputSize
        for item in 0..<batch {
            forwardOne(input: input + item * grid, output: output + item * classes * grid, sigmoid: sigmoid, ws: ws)
        }
    }

    private func forwardOne(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, sigmoid: Bool,
                            ws: KernelWorkspace) {
        let k = kernels, team = ws.team, parts = team.size
        let sizes = ws.levelSizes, widths = architecture.encoderWidths
        func conv(_ layer: PreparedConvolution, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
            layer.run(k, input: x, output: y, scratch: ws.scratch, team: team)
        }
        // The slice into the interior of the padded input plane (its border stays zero).
        let s = inputSize
        for row in 0..<s { (ws.paddedInput + (row + 1) * (s + 2) + 1).update(from: input + row * s, count: s) }
        var x = UnsafePointer(ws.paddedInput)
        for level in 0..<architecture.levels {
            let size = sizes[level]
            let skip = ws.skip(level: level, widths: widths)
            conv(encoder[level][0], x, ws.bufferA)
            conv(encoder[level][1], ws.bufferA, skip)
            team.run { k.max_pool_2x2(skip, Int32(widths[level]), Int32(size), Int32(size), ws.bufferB, Int32($0), Int32(parts)) }
            x = UnsafePointer(ws.bufferB)
        }
        conv(center, x, ws.bufferA)
        for level in (0..<architecture.levels).reversed() {
            let size = Int32(sizes[level]), below = Int32(sizes[level + 1])
            let concat = ws.concat[level]
            team.run { k.upsample_bilinear(ws.bufferA, Int32(widths[level]), below, below, concat, size, size, Int32($0), Int32(parts)) }
            conv(decoder[level][0], concat, ws.bufferA)
            conv(decoder[level][1], ws.bufferA, ws.bufferB)
            conv(decoder[level][2], ws.bufferB, ws.bufferA)
        }
        classifierWeights.withUnsafeBufferPointer { w in
            classifierBias.withUnsafeBufferPointer { b in
                team.run {
                    k.classifier_1x1(ws.bufferA, 32, output, Int32(classes), Int32(s), Int32(s), w.baseAddress, b.baseAddress,
                                     sigmoid ? 1 : 0, Int32($0), Int32(parts))
                }
            }
        }
    }
}
