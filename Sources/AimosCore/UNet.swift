/// One AIMOS 2D U-Net with BatchNorm folded into its convolutions.
/// Forward pass as the published modules: per encoder level two conv-BN-ReLU then 2x2 max-pool;
/// a conv-BN-ReLU centre; per decoder level bilinear (align-corners) upsampling to the skip's
/// size, concatenation [upsampled, skip], three conv-BN-ReLU; a 1x1 classifier with bias.
final class UNet {
    let architecture: UNetArchitecture
    let encoder: [[ConvLayer]]   // [level][2]
    let center: ConvLayer
    let decoder: [[ConvLayer]]   // [level][3]
    let classifier: ConvLayer

    /// Builds the network from a tensor source that returns a tensor's values for a
    /// state_dict key and an expected shape (and throws, naming the key, when it cannot).
    init(architecture: UNetArchitecture, outputChannels: Int,
         tensor: (_ key: String, _ shape: [Int]) throws -> [Float]) throws {
        func block(_ b: UNetArchitecture.ConvBlock) throws -> ConvLayer {
            let weights = try tensor("\(b.prefix).conv.weight", [b.outChannels, b.inChannels, 3, 3])
            let vector = [b.outChannels]
            let gamma = try tensor("\(b.prefix).bn.weight", vector)
            let beta = try tensor("\(b.prefix).bn.bias", vector)
            let mean = try tensor("\(b.prefix).bn.running_mean", vector)
            let variance = try tensor("\(b.prefix).bn.running_var", vector)
            if let bad = variance.firstIndex(where: { $0 < 0 }) {
                throw AimosError.format("tensor '\(b.prefix).bn.running_var' has a negative variance at index \(bad)")
            }
            return ConvLayer.foldingBatchNorm(inChannels: b.inChannels, outChannels: b.outChannels, kernelSize: 3,
                                              weights: weights, gamma: gamma, beta: beta, mean: mean, variance: variance)
        }
        self.architecture = architecture
        encoder = try (0..<architecture.levels).map { try architecture.encoderBlocks(level: $0).map(block) }
        center = try block(architecture.centerBlock)
        decoder = try (0..<architecture.levels).map { try architecture.decoderBlocks(level: $0).map(block) }
        classifier = ConvLayer(inChannels: 32, outChannels: outputChannels, kernelSize: 1,
                               weights: try tensor("classify.weight", [outputChannels, 32, 1, 1]),
                               bias: try tensor("classify.bias", [outputChannels]), relu: false)
    }

    /// Logits [outputChannels][S][S] of one z-scored S x S slice.
    func forward(input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, workspace ws: UNetWorkspace) {
        let sizes = ws.levelSizes
        let widths = architecture.encoderWidths
        func conv(_ layer: ConvLayer, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ size: Int) {
            Conv2D.run(layer, input: x, output: y, height: size, width: size,
                       columns: ws.columns, columnCapacity: ws.columnCapacity)
        }
        var x = input
        for level in 0..<architecture.levels {
            let size = sizes[level]
            let skip = ws.concat[level] + widths[level] * size * size
            conv(encoder[level][0], x, ws.bufferA, size)
            conv(encoder[level][1], ws.bufferA, skip, size)
            MaxPool2D.run(input: skip, output: ws.bufferB, channels: widths[level], height: size, width: size)
            x = UnsafePointer(ws.bufferB)
        }
        conv(center, x, ws.bufferA, sizes[architecture.levels])
        for level in (0..<architecture.levels).reversed() {
            let size = sizes[level], below = sizes[level + 1]
            BilinearAlignCorners.run(input: ws.bufferA, inHeight: below, inWidth: below,
                                     output: ws.concat[level], outHeight: size, outWidth: size, channels: widths[level])
            conv(decoder[level][0], ws.concat[level], ws.bufferA, size)
            conv(decoder[level][1], ws.bufferA, ws.bufferB, size)
            conv(decoder[level][2], ws.bufferB, ws.bufferA, size)
        }
        conv(classifier, ws.bufferA, logits, sizes[0])
    }
}
