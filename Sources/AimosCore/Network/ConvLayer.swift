/// A convolution with BatchNorm folded in at load time:
/// relu?(W' * x + b') with W' = W * gamma / sqrt(var + eps) and b' = beta - mean * gamma / sqrt(var + eps).
/// Weights are row-major [outChannels][inChannels * k * k] (PyTorch's own order).
package struct ConvLayer {
    package let inChannels: Int
    package let outChannels: Int
    package let kernelSize: Int
    package let weights: [Float]
    package let bias: [Float]
    package let relu: Bool

    /// The published ConvBnRelu2d uses BatchNorm2d(eps=1e-4).
    package static let batchNormEpsilon: Double = 1e-4

    package init(inChannels: Int, outChannels: Int, kernelSize: Int, weights: [Float], bias: [Float], relu: Bool) {
        precondition(weights.count == inChannels * outChannels * kernelSize * kernelSize && bias.count == outChannels)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.weights = weights
        self.bias = bias
        self.relu = relu
    }

    /// Folds an eval-mode BatchNorm into a bias-free convolution (in double, rounded once).
    package static func foldingBatchNorm(inChannels: Int, outChannels: Int, kernelSize: Int, weights: [Float],
                                        gamma: [Float], beta: [Float], mean: [Float], variance: [Float]) -> ConvLayer {
        let perOutput = inChannels * kernelSize * kernelSize
        var folded = [Float](repeating: 0, count: weights.count)
        var bias = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            let scale = Double(gamma[o]) / (Double(variance[o]) + batchNormEpsilon).squareRoot()
            for i in 0..<perOutput {
                folded[o * perOutput + i] = Float(Double(weights[o * perOutput + i]) * scale)
            }
            bias[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
        }
        return ConvLayer(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                         weights: folded, bias: bias, relu: true)
    }
}
