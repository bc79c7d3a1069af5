#if canImport(Glibc)
import Glibc
#endif

/// The reference backend: planar [channels][H][W] activations, convolutions as im2col +
/// OpenBLAS sgemm (ReferenceConv2D). Slower than the own kernels, and depends on OpenBLAS
/// recognising the CPU; kept because it is the plainest statement of the network, for tests.
final class ReferenceNetwork: PreparedNetwork {
    let net: UNet
    let inputSize: Int
    var kernelPath: CPUKernelPath { .reference }
    var weightBytes: Int {
        let layers = net.encoder.joined() + [net.center] + net.decoder.joined() + [net.classifier]
        return layers.reduce(0) { $0 + 4 * ($1.weights.count + $1.bias.count) }
    }

    init(net: UNet, inputSize: Int) {
        self.net = net
        self.inputSize = inputSize
    }

    func makeWorkspace(threads: Int) throws -> NetworkWorkspace {
        try ReferenceWorkspace(architecture: net.architecture, inputSize: inputSize)
    }

    func forward(input: UnsafePointer<Float>, batch: Int, output: UnsafeMutablePointer<Float>,
                 sigmoid: Bool, workspace: NetworkWorkspace) {
        let ws = workspace as! ReferenceWorkspace
        let grid = inputSize * inputSize, channels = net.classifier.outChannels
        for item in 0..<batch {
            let logits = output + item * channels * grid
            forwardOne(input: input + item * grid, logits: logits, ws: ws)
            if sigmoid {
                for i in 0..<(channels * grid) { logits[i] = 1 / (1 + expf(-logits[i])) }
            }
        }
    }

    private func forwardOne(input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, ws: ReferenceWorkspace) {
        let sizes = ws.levelSizes
        let widths = net.architecture.encoderWidths
        func conv(_ layer: ConvLayer, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ size: Int) {
            ReferenceConv2D.run(layer, input: x, output: y, height: size, width: size,
                                columns: ws.columns, columnCapacity: ws.columnCapacity)
        }
        var x = input
        for level in 0..<net.architecture.levels {
            let size = sizes[level]
            let skip = ws.concat[level] + widths[level] * size * size
            conv(net.encoder[level][0], x, ws.bufferA, size)
            conv(net.encoder[level][1], ws.bufferA, skip, size)
            ReferenceMaxPool2D.run(input: skip, output: ws.bufferB, channels: widths[level], height: size, width: size)
            x = UnsafePointer(ws.bufferB)
        }
        conv(net.center, x, ws.bufferA, sizes[net.architecture.levels])
        for level in (0..<net.architecture.levels).reversed() {
            let size = sizes[level], below = sizes[level + 1]
            BilinearAlignCorners.run(input: ws.bufferA, inHeight: below, inWidth: below,
                                     output: ws.concat[level], outHeight: size, outWidth: size, channels: widths[level])
            conv(net.decoder[level][0], ws.concat[level], ws.bufferA, size)
            conv(net.decoder[level][1], ws.bufferA, ws.bufferB, size)
            conv(net.decoder[level][2], ws.bufferB, ws.bufferA, size)
        }
        conv(net.classifier, ws.bufferA, logits, sizes[0])
    }
}
