/// The weights of one AIMOS 2D U-Net, BatchNorm folded into its convolutions, as read from a
/// model file; a backend prepares them for its kernels (NetworkBackend.swift). The forward pass
/// every backend computes is the published modules': per encoder level two conv-BN-ReLU then 2x2 max-pool;
/// a conv-BN-ReLU centre; per decoder level bilinear (align-corners) upsampling to the skip's
/// size, concatenation [upsampled, skip], three conv-BN-ReLU; a 1x1 classifier with bias.
final class UNet {
    let architecture: UNetArchitecture
    let encoder: [[ConvLayer]]   // [level][2]
    let center: ConvLayer
    let decoder: [[ConvLayer]]   // [level][3]
    let classifier: ConvLayer

    /// A source of tensors: a tensor's values for a state_dict key and an expected shape
    /// (throwing, naming the key, when it cannot).
    typealias TensorSource = (_ key: String, _ shape: [Int]) throws -> [Float]

    init(architecture: UNetArchitecture, outputChannels: Int, tensor: TensorSource) throws {
        self.architecture = architecture
        encoder = try (0..<architecture.levels).map { try architecture.encoderBlocks(level: $0).map { try Self.foldedBlock($0, tensor) } }
        center = try Self.foldedBlock(architecture.centerBlock, tensor)
        decoder = try (0..<architecture.levels).map { try architecture.decoderBlocks(level: $0).map { try Self.foldedBlock($0, tensor) } }
        classifier = try Self.classifier(outputChannels: outputChannels, tensor)
    }

    /// One conv-BN-ReLU block's tensors, BatchNorm folded into the convolution.
    static func foldedBlock(_ b: UNetArchitecture.ConvBlock, _ tensor: TensorSource) throws -> ConvLayer {
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

    /// The 1x1 classifier (with bias, no BatchNorm).
    static func classifier(outputChannels: Int, _ tensor: TensorSource) throws -> ConvLayer {
        ConvLayer(inChannels: 32, outChannels: outputChannels, kernelSize: 1,
                  weights: try tensor("classify.weight", [outputChannels, 32, 1, 1]),
                  bias: try tensor("classify.bias", [outputChannels]), relu: false)
    }
}
